import { CurrentPrincipal, ErrorBody, PlayerRoutes, Principal, Public, assertNoControlCharacters, createValidationPipe } from '@app/platform';
import { BadRequestException, Controller, ForbiddenException, Get, HttpCode, OnModuleInit, Post, Query, Req, Res, UnauthorizedException } from '@nestjs/common';
import { ApiBadRequestResponse, getSchemaPath, ApiBearerAuth, ApiBody, ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DECISION_PLATFORMS, DecisionRequestDto, MAX_SLOTS, VastQueryDto } from '../dto/decision-request.dto';
import { DecisionResponseDto } from '../dto/decision-response.dto';
import { DecisionService } from '../services/decision.service';
import type { DecisionOutcome } from '../services/decision.types';
import { renderVast } from '../vast/vast-renderer';
import { DecisionBody, DecisionBodyPipe } from './decision-body.decorator';
import { contextFromBody, contextFromVastQuery } from './decision-context.mapper';
import { decisionResponseJson, toDecisionResponse } from './decision-json';

/**
 * Players and ad SDKs append parameters of their own (cache busters, correlators) to VAST tags, so
 * /v1/vast ignores unknown query parameters instead of refusing them; known ones are validated as strictly.
 */
const vastQueryPipe = createValidationPipe({ forbidUnknownFields: false });

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

const bodyPipe = new DecisionBodyPipe();

/**
 * Served as player routes (PlayerRoutes: no Nest pipeline, no security headers; players read these
 * answers as data, never render them as pages). The Nest decorators describe them in the OpenAPI document.
 */
@ApiTags('delivery')
@Controller('v1')
export class DecisionsController implements OnModuleInit {
  constructor(
    private readonly decisions: DecisionService,
    private readonly playerRoutes: PlayerRoutes,
  ) {}

  onModuleInit(): void {
    this.playerRoutes.route({
      method: 'POST',
      url: '/v1/decisions',
      handler: async (request, reply) => {
        // The body parser refused control characters in the body already; the query gets the same rule.
        assertNoControlCharacters(request.query);
        const body = await bodyPipe.transform(request.body);
        const explainParam = (request.query as Record<string, string | undefined>).explain;
        const { outcome, explain } = await this.outcomeOf(body, explainParam, await this.playerRoutes.principal(request), request);
        void reply.type('application/json; charset=utf-8');
        return explain ? JSON.stringify(toDecisionResponse(outcome, true)) : decisionResponseJson(outcome, this.decisions.urls);
      },
    });
    this.playerRoutes.route({ method: 'GET', url: '/v1/vast', handler: (request, reply) => this.vast(request, reply) });
  }

  @Post('decisions')
  @Public()
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Decide which ads a listener hears (public; players call it)',
    description:
      'Filters the active catalog by flight, format and targeting, ranks by priority then expected value, and applies budgets, pacing and frequency caps atomically across replicas. An empty `decisions` list means no fill. `?explain=true` (admin key) adds why each line item won or lost.',
  })
  @ApiBody({ type: DecisionRequestDto })
  @ApiQuery({ name: 'explain', required: false, enum: ['true', 'false'], description: 'Admin only: add `explanation`' })
  @ApiOkResponse({ type: DecisionResponseDto })
  @ApiBadRequestResponse({ type: ErrorBody, description: 'Malformed request; the message names the field' })
  @ApiUnauthorizedResponse({ type: ErrorBody, description: 'explain=true without an API key' })
  @ApiForbiddenResponse({ type: ErrorBody, description: 'explain=true with a non-admin key' })
  async decide(
    @DecisionBody(DecisionBodyPipe) body: DecisionRequestDto,
    @Query('explain') explainParam: string | undefined,
    @CurrentPrincipal() principal: Principal | undefined,
    @Req() request: FastifyRequest,
  ): Promise<DecisionResponseDto> {
    const { outcome, explain } = await this.outcomeOf(body, explainParam, principal, request);
    return toDecisionResponse(outcome, explain);
  }

  private async outcomeOf(
    body: DecisionRequestDto,
    explainParam: string | undefined,
    principal: Principal | undefined,
    request: FastifyRequest,
  ): Promise<{ outcome: DecisionOutcome; explain: boolean }> {
    const explain = parseFlag(explainParam);
    if (explain) {
      if (!principal) throw new UnauthorizedException('explain=true needs an admin API key');
      if (principal.kind !== 'admin') throw new ForbiddenException('explain=true needs an admin API key');
    }
    // A decision's IP is the listener's (device.ip, as server-side integrations send it), else the caller's.
    const ctx = contextFromBody(body);
    ctx.ip ??= request.ip;
    return { outcome: await this.decisions.decide(ctx, { requestId: String(request.id), explain }), explain };
  }

  @Get('vast')
  @Public()
  @ApiOperation({
    summary: 'The same decision as VAST 4.2 XML (public; players call it)',
    description:
      'Flat query parameters as players send them; `userAgent` and `ip` default to the request\'s own; unknown parameters (cache busters) are ignored. Audio ads are `adType="audio"`; a pod has `sequence` numbers; no fill is an empty `<VAST version="4.2"/>`. HEAD (link checkers, prefetchers) checks the parameters and answers 200 with the content type and no body: it decides nothing and reserves nothing.',
  })
  @ApiProduces('application/xml')
  @ApiQuery({ name: 'placement', required: true, example: 'between-songs' })
  @ApiQuery({ name: 'userId', required: true, example: 'listener-8f3a2c' })
  @ApiQuery({ name: 'platform', required: true, enum: DECISION_PLATFORMS, example: 'ios' })
  @ApiQuery({ name: 'country', required: true, example: 'US' })
  @ApiQuery({ name: 'slots', required: false, example: 1, description: `1..${MAX_SLOTS}` })
  @ApiQuery({ name: 'age', required: false, example: 29 })
  @ApiQuery({ name: 'gender', required: false, example: 'female' })
  @ApiQuery({ name: 'userAgent', required: false, example: 'Spotify/8.9.10 iOS/17.2' })
  @ApiQuery({ name: 'ip', required: false, example: '203.0.113.7' })
  @ApiQuery({ name: 'region', required: false, example: 'CA' })
  @ApiQuery({ name: 'genre', required: false, example: 'rock' })
  @ApiQuery({ name: 'keywords', required: false, example: 'running,summer', description: 'Comma-separated' })
  @ApiQuery({ name: 'format', required: false, enum: ['audio', 'video'], example: 'audio' })
  @ApiOkResponse({ description: 'VAST 4.2 document', content: { 'application/xml': { schema: { type: 'string' }, example: SAMPLE_VAST } } })
  // Errors are JSON like every other route's, not XML: spelled out, since @ApiProduces applies to every status.
  @ApiBadRequestResponse({ description: 'Malformed parameters; the message names the field', content: { 'application/json': { schema: { $ref: getSchemaPath(ErrorBody) } } } })
  async vast(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    assertNoControlCharacters(request.query);
    const query = (await vastQueryPipe.transform(request.query ?? {}, { type: 'query', metatype: VastQueryDto })) as VastQueryDto;
    // Fastify answers HEAD with this GET handler. HEAD comes from link checkers and prefetchers, never a
    // player about to play: a decision would reserve budget (and count towards caps) for nobody.
    if (request.method === 'HEAD') {
      void reply.header('content-type', 'application/xml; charset=utf-8').header('cache-control', 'no-store');
      return '';
    }
    const ua = request.headers['user-agent'];
    const ctx = contextFromVastQuery(query, { userAgent: typeof ua === 'string' ? ua : undefined, ip: request.ip });
    const outcome = await this.decisions.decide(ctx, { requestId: String(request.id) });
    void reply.header('content-type', 'application/xml; charset=utf-8').header('cache-control', 'no-store');
    return renderVast(outcome.ads);
  }
}

function parseFlag(value: string | undefined): boolean {
  if (value === undefined || value === '' || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw new BadRequestException('explain: must be true or false');
}
