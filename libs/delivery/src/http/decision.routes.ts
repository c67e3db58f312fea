import { PlayerRoute, PlayerRoutes, assertNoControlCharacters } from '@app/platform';
import { ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import type { FastifyRequest, preValidationHookHandler } from 'fastify';
import { DecisionService } from '../services/decision.service';
import { renderVast } from '../vast/vast-renderer';
import { contextFromBody, contextFromVastQuery } from './decision-context.mapper';
import { DecideQuery, DecisionRequest, VastQuery, decideQuerySchema, decisionRequestSchema, decisionResponseSchema, vastQuerySchema } from './decision.schemas';

const SAMPLE_VAST = `<?xml version="1.0" encoding="UTF-8"?>
<VAST version="4.2" xmlns="http://www.iab.com/VAST">
<Ad id="0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f" adType="audio">
<InLine>
<AdSystem version="1.0">AdPlatform</AdSystem>
<Impression id="0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f"><![CDATA[https://ads.example.com/t/impression?d=...]]></Impression>
<Pricing model="CPM" currency="USD">2.5</Pricing>
<AdServingId>0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f</AdServingId>
<AdTitle>Summer sale</AdTitle>
<Creatives><Creative id="cr-1" adId="cr-1"><Linear>
<TrackingEvents><Tracking event="start"><![CDATA[https://ads.example.com/t/start?d=...]]></Tracking>...</TrackingEvents>
<Duration>00:00:30</Duration>
<MediaFiles><MediaFile delivery="progressive" type="audio/mpeg" width="0" height="0"><![CDATA[https://cdn.example.com/a.mp3]]></MediaFile></MediaFiles>
<VideoClicks><ClickTracking><![CDATA[https://ads.example.com/t/click?d=...]]></ClickTracking><ClickThrough><![CDATA[https://brand.example.com]]></ClickThrough></VideoClicks>
</Linear><UniversalAdId idRegistry="adplatform">cr-1</UniversalAdId></Creative></Creatives>
</InLine>
</Ad>
</VAST>`;

// The body parser refused control characters in the body already; the query gets the same rule, for
// every parameter (known or not), before the schema speaks.
const noControlCharactersInQuery: preValidationHookHandler = (request, _reply, done) => {
  assertNoControlCharacters(request.query);
  done();
};

/** Keywords as one comma-separated string (a VAST tag's, or a body written like one) become the list the schema checks. */
function splitKeywords(holder: unknown): void {
  if (typeof holder !== 'object' || holder === null) return;
  const record = holder as { keywords?: unknown };
  if (typeof record.keywords === 'string') {
    record.keywords = record.keywords
      .split(',')
      .map((k) => k.trim())
      .filter((k) => k.length > 0);
  }
}

const bodyKeywords: preValidationHookHandler = (request, _reply, done) => {
  if (typeof request.body === 'object' && request.body !== null) splitKeywords((request.body as { context?: unknown }).context);
  done();
};

const queryKeywords: preValidationHookHandler = (request, _reply, done) => {
  splitKeywords(request.query);
  done();
};

const isTrue = (flag: string | undefined) => flag === 'true' || flag === '1';

/**
 * POST /v1/decisions and GET /v1/vast, served as player routes (PlayerRoutes: no Nest pipeline, no
 * security headers; players read these answers as data, never render them as pages).
 */
@Injectable()
export class DecisionRoutes {
  constructor(
    private readonly decisions: DecisionService,
    private readonly server: PlayerRoutes,
  ) {}

  readonly decide: PlayerRoute<{ Body: DecisionRequest; Querystring: DecideQuery }> = {
    method: 'POST',
    url: '/v1/decisions',
    request: { body: decisionRequestSchema, querystring: decideQuerySchema },
    responses: {
      200: { description: 'The ads to play, with their tracking URLs', json: decisionResponseSchema },
      400: { description: 'Malformed request; the message names the field', error: true },
      401: { description: 'explain=true without an API key', error: true },
      403: { description: 'explain=true with a non-admin key', error: true },
    },
    docs: {
      operationId: 'decide',
      tags: ['delivery'],
      summary: 'Decide which ads a listener hears (public; players call it)',
      description:
        'Filters the active catalog by flight, format and targeting, ranks by priority then expected value, and applies budgets, pacing and frequency caps atomically across replicas. An empty `decisions` list means no fill. `?explain=true` (admin key) adds why each line item won or lost.',
      bearer: true,
    },
    preValidation: [noControlCharactersInQuery, bodyKeywords],
    handler: async (request) => {
      // A key is resolved whenever one is sent, as ApiKeyGuard does on public routes (failed ones count).
      const principal = await this.server.principal(request);
      const explain = isTrue(request.query.explain);
      if (explain) {
        if (!principal) throw new UnauthorizedException('explain=true needs an admin API key');
        if (principal.kind !== 'admin') throw new ForbiddenException('explain=true needs an admin API key');
      }
      // A decision's IP is the caller's, or the listener's it names when it may (server-side integrations).
      const ctx = contextFromBody(request.body);
      ctx.ip = this.server.listenerIp(request, ctx.ip);
      const outcome = await this.decisions.decide(ctx, { requestId: String(request.id), explain });
      // Written by decisionResponseSchema: of each ServedAd, only the fields it lists.
      return { requestId: outcome.requestId, decisions: outcome.ads, explanation: outcome.explanation };
    },
  };

  readonly vast: PlayerRoute<{ Querystring: VastQuery }> = {
    method: 'GET',
    url: '/v1/vast',
    request: { querystring: vastQuerySchema },
    responses: {
      200: { description: 'VAST 4.2 document', content: { 'application/xml': { schema: { type: 'string' }, example: SAMPLE_VAST } } },
      // Errors are JSON like every other route's, not XML.
      400: { description: 'Malformed parameters; the message names the field', error: true },
    },
    docs: {
      operationId: 'vast',
      tags: ['delivery'],
      summary: 'The same decision as VAST 4.2 XML (public; players call it)',
      description:
        'Flat query parameters as players send them; `userAgent` and `ip` default to the request\'s own; unknown parameters (cache busters) are ignored. Audio ads are `adType="audio"`; a pod has `sequence` numbers; no fill is an empty `<VAST version="4.2"/>`. HEAD (link checkers, prefetchers) checks the parameters and answers 200 with the content type and no body: it decides nothing and reserves nothing.',
    },
    preValidation: [noControlCharactersInQuery, queryKeywords],
    handler: async (request: FastifyRequest<{ Querystring: VastQuery }>, reply) => {
      void reply.header('content-type', 'application/xml; charset=utf-8').header('cache-control', 'no-store');
      // Fastify answers HEAD with this GET handler. HEAD comes from link checkers and prefetchers, never a
      // player about to play: a decision would reserve budget (and count towards caps) for nobody.
      if (request.method === 'HEAD') return '';
      const ua = request.headers['user-agent'];
      const ctx = contextFromVastQuery(request.query, { userAgent: typeof ua === 'string' ? ua : undefined, ip: this.server.listenerIp(request, request.query.ip) });
      const outcome = await this.decisions.decide(ctx, { requestId: String(request.id) });
      return renderVast(outcome.ads);
    },
  };
}
