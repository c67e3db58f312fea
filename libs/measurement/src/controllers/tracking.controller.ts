import { TrackingTokenCodec } from '@app/delivery';
import { ErrorBody, PlayerRoutes, Public, locationHeader } from '@app/platform';
import { BadRequestException, Controller, Get, Logger, OnModuleInit, Param, Query, Req, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiBadRequestResponse, ApiFoundResponse, ApiNoContentResponse, ApiOperation, ApiParam, ApiQuery, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { EVENT_TYPES, isEventType } from '../events/event-types';
import { ClickThroughService, ClickThroughUnavailableError } from '../ingest/click-through.service';
import { IngestService } from '../ingest/ingest.service';

/** Served as a player route (PlayerRoutes); the Nest decorators describe it in the OpenAPI document. */
@ApiTags('tracking')
@Controller('t')
export class TrackingController implements OnModuleInit {
  private readonly logger = new Logger(TrackingController.name);

  constructor(
    private readonly ingest: IngestService,
    private readonly clickThrough: ClickThroughService,
    private readonly codec: TrackingTokenCodec,
    private readonly playerRoutes: PlayerRoutes,
  ) {}

  onModuleInit(): void {
    this.playerRoutes.route({
      method: 'GET',
      url: '/t/:event',
      handler: (request, reply) => this.beacon((request.params as { event: string }).event, (request.query as { d?: unknown }).d, request, reply),
    });
  }

  @Public()
  @Get(':event')
  @ApiOperation({
    summary: 'Tracking beacon: stored before the answer; 204, or 302 to the creative\'s click-through URL for click',
    description:
      'Invalid traffic (bad or expired token, bots, impossible sequences, abnormal rates) and duplicates also answer 204: they are stored and labelled, never billed. HEAD (link checkers, prefetchers) answers the same status and Location but records nothing.',
  })
  @ApiParam({ name: 'event', enum: EVENT_TYPES })
  @ApiQuery({ name: 'd', description: 'Signed tracking token from the decision', example: 'Av__AZLxxI0ufBqaVT8bLD1OX___AZLxx...ByweY4A.3oL-omg9wtA9TmA7...' })
  @ApiNoContentResponse({ description: 'Stored (or a duplicate); also a click for which no approved click-through URL is known: stored, and the listener stays where they are' })
  @ApiFoundResponse({ description: 'click: redirect to the click-through URL approved for the ad that was served (never a later, unreviewed edit)' })
  @ApiBadRequestResponse({ type: ErrorBody, description: 'Unknown event name or missing token' })
  @ApiServiceUnavailableResponse({ type: ErrorBody, description: 'MySQL unavailable: not stored (or, for a click, stored but its approved URL unreadable), the player should retry' })
  async beacon(@Param('event') event: string, @Query('d') token: unknown, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    if (!isEventType(event)) throw new BadRequestException(`event must be one of ${EVENT_TYPES.join(', ')}`);
    if (typeof token !== 'string' || token.length === 0) throw new BadRequestException('d: the tracking token is required');
    // HEAD is what link checkers and prefetchers send, never a player firing a beacon: same answer, nothing recorded.
    const claims = request.method === 'HEAD' ? this.codec.verify(token).claims : (await this.ingest.ingest([{ event, token, userAgent: request.headers['user-agent'], ip: request.ip }]))[0].claims;
    reply.header('cache-control', 'no-store');
    if (event === 'click' && claims) {
      // The target is the approved version named by the signed token, never the request nor the
      // creative's current URL (it may be an edit awaiting review): no open redirect, no unreviewed one.
      let url: string | null;
      try {
        url = await this.clickThrough.urlFor(claims.creativeId, claims.creativeVersion);
      } catch (err) {
        if (err instanceof ClickThroughUnavailableError) throw new ServiceUnavailableException('the click-through URL cannot be read right now (a GET click is already stored); retry later');
        throw err;
      }
      // RFC 3986 (ASCII, UTF-8 percent-escapes, punycode host): Node refuses anything else in a header.
      // No approved URL known (a forged creative, a token of another deployment): nowhere safe to send
      // the listener, so the same 204 as any stored beacon, leaving them where they are.
      const location = url ? locationHeader(url) : undefined;
      if (location) {
        reply.code(302).header('location', location).send();
        return;
      }
      if (url) this.logger.warn(`creative ${claims.creativeId}: click-through URL is not an absolute http(s) URL, no redirect`);
    }
    reply.code(204).send();
  }
}
