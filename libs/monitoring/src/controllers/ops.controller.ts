import { ErrorBody } from '@app/platform';
import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { QueueProbeDto, QueueStatsDto } from '../dto/ops.dto';
import { QueueProbeService } from '../services/queue-probe.service';
import { QueueStatsService } from '../services/queue-stats.service';

@ApiTags('ops')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ErrorBody })
@ApiForbiddenResponse({ type: ErrorBody, description: 'An advertiser key: admin only' })
@Controller('v1/ops')
export class OpsController {
  constructor(
    private readonly probes: QueueProbeService,
    private readonly stats: QueueStatsService,
  ) {}

  @Get('queues')
  @ApiOperation({ summary: 'Per queue: waiting, active, delayed, failed, completed, oldest waiting age (admin)' })
  @ApiOkResponse({ type: QueueStatsDto, isArray: true })
  @ApiServiceUnavailableResponse({ type: ErrorBody })
  queues(): Promise<QueueStatsDto[]> {
    return this.stats.all();
  }

  @Post('probes')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a probe job through the queue to a worker (admin); poll it by id' })
  @ApiAcceptedResponse({ type: QueueProbeDto })
  @ApiServiceUnavailableResponse({ type: ErrorBody })
  sendProbe(): Promise<QueueProbeDto> {
    return this.probes.send();
  }

  @Get('probes/:id')
  @ApiOperation({ summary: 'A probe and whether a worker has processed it (admin)' })
  @ApiOkResponse({ type: QueueProbeDto })
  getProbe(@Param('id') id: string): Promise<QueueProbeDto> {
    return this.probes.get(id);
  }
}
