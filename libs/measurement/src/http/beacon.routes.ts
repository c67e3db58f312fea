import { TrackingTokenCodec } from '@app/delivery';
import { PlayerRoute, locationHeader } from '@app/platform';
import { Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import { EVENT_TYPES, EventType } from '../events/event-types';
import { ClickThroughService, ClickThroughUnavailableError } from '../ingest/click-through.service';
import { IngestService } from '../ingest/ingest.service';

const beaconParamsSchema = {
  type: 'object',
  required: ['event'],
  properties: { event: { type: 'string', enum: EVENT_TYPES, description: 'The beacon: an event of the ad\'s playback, or click' } },
} as const;

/** Unknown parameters (cache busters) are allowed: players append their own. */
const beaconQuerySchema = {
  type: 'object',
  required: ['d'],
  properties: { d: { type: 'string', minLength: 1, description: 'Signed tracking token from the decision', example: 'Av__AZLxxI0ufBqaVT8bLD1OX___AZLxx...ByweY4A.3oL-omg9wtA9TmA7...' } },
} as const;

/** GET|HEAD /t/:event, served as a player route (PlayerRoutes: no Nest pipeline). */
@Injectable()
export class BeaconRoutes {
  private readonly logger = new Logger(BeaconRoutes.name);

  constructor(
    private readonly ingest: IngestService,
    private readonly clickThrough: ClickThroughService,
    private readonly codec: TrackingTokenCodec,
  ) {}

  readonly beacon: PlayerRoute<{ Params: { event: EventType }; Querystring: { d: string } }> = {
    method: 'GET',
    url: '/t/:event',
    request: { params: beaconParamsSchema, querystring: beaconQuerySchema },
    responses: {
      204: { description: 'Stored (or a duplicate); also a click for which no approved click-through URL is known: stored, and the listener stays where they are' },
      302: { description: 'click: redirect to the click-through URL approved for the ad that was served (never a later, unreviewed edit)' },
      400: { description: 'Unknown event name or missing token', error: true },
      503: { description: 'MySQL unavailable: not stored (or, for a click, stored but its approved URL unreadable), the player should retry', error: true },
    },
    docs: {
      operationId: 'beacon',
      tags: ['tracking'],
      summary: 'Tracking beacon: stored before the answer; 204, or 302 to the creative\'s click-through URL for click',
      description:
        'Invalid traffic (bad or expired token, bots, impossible sequences, abnormal rates) and duplicates also answer 204: they are stored and labelled, never billed. HEAD (link checkers, prefetchers) answers the same status and Location but records nothing.',
    },
    handler: async (request, reply) => {
      const { event } = request.params;
      const token = request.query.d;
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
        if (location) return reply.code(302).header('location', location).send();
        if (url) this.logger.warn(`creative ${claims.creativeId}: click-through URL is not an absolute http(s) URL, no redirect`);
      }
      return reply.code(204).send();
    },
  };
}
