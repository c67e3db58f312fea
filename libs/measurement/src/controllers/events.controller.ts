import { ErrorBody, Public } from '@app/platform';
import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { EventsBatchDto, EventsBatchResultDto, parseEventTime } from '../dto/events.dto';
import { IngestService } from '../ingest/ingest.service';

@ApiTags('tracking')
@Controller('v1/events')
export class EventsController {
  constructor(private readonly ingest: IngestService) {}

  @Public()
  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Beacons queued offline by a player (1 to 1,000), answered per event in order',
    description: 'Stored before the answer, in one transaction. JSON may also be sent as text/plain (navigator.sendBeacon). No API key needed: the tokens are signed.',
  })
  @ApiConsumes('application/json', 'text/plain')
  @ApiBody({ type: EventsBatchDto })
  @ApiOkResponse({ type: EventsBatchResultDto })
  @ApiBadRequestResponse({ type: ErrorBody, description: 'Not 1..1000 events, an unknown event name, or a malformed field (named)' })
  @ApiServiceUnavailableResponse({ type: ErrorBody, description: 'MySQL unavailable: nothing was acknowledged, retry later' })
  async submit(@Body() body: EventsBatchDto, @Req() request: FastifyRequest): Promise<EventsBatchResultDto> {
    const userAgent = request.headers['user-agent'];
    const results = await this.ingest.ingest(
      body.events.map((e) => ({ event: e.event, token: e.token, occurredAt: e.occurredAt === undefined ? undefined : parseEventTime(e.occurredAt)!, userAgent, ip: request.ip })),
    );
    return { results: results.map(({ outcome }) => (outcome.status === 'invalid' ? { status: 'invalid', reason: outcome.reason } : { status: outcome.status })) };
  }
}
