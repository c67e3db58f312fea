import { ADMIN_ONLY, ApiController, ListEndpoint, Auth, CurrentPrincipal, ErrorBody, Principal, invalidField, pageOffset, scopeOf } from '@app/platform';
import { BadRequestException, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBadRequestResponse, ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse } from '@nestjs/swagger';
import { BreachesRepository } from '../repositories/breaches.repository';
import { DeadLetter, DeadLettersService } from '../dead-letters/dead-letters.service';
import { DeliveryHealthService } from '../delivery-health/delivery-health.service';
import {
  BreachPageDto,
  BreachQueryDto,
  DeadLetterDto,
  DeadLetterPageDto,
  DeadLetterQueryDto,
  DeliveryHealthDto,
  DeliveryHealthQueryDto,
  QueueProbeDto,
  QueueStateDto,
  QueueStatsDto,
  SlaOverviewDto,
} from '../dto/ops.dto';
import { QueueControlService } from '../queues/queue-control.service';
import { QueueProbeService } from '../services/queue-probe.service';
import { QueueStatsService } from '../services/queue-stats.service';
import { SlaCatalog } from '../sla/sla-catalog.service';
import { SlaOverviewService, breachDto } from '../sla/sla-overview.service';

/** Rows per page of the ops lists when `limit` is not given. */
const OPS_PAGE_SIZE = 50;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function deadLetterDto(d: DeadLetter): DeadLetterDto {
  return {
    ...d,
    failedAt: d.failedAt.toISOString(),
    retriedAt: d.retriedAt?.toISOString() ?? null,
    doneAt: d.doneAt?.toISOString() ?? null,
  };
}

/** Operations: SLAs and breaches, dead letters, queues, delivery health. Admin only, but delivery health. */
@ApiController('v1/ops', 'ops', ADMIN_ONLY)
export class OpsController {
  constructor(
    private readonly probes: QueueProbeService,
    private readonly stats: QueueStatsService,
    private readonly control: QueueControlService,
    private readonly overview: SlaOverviewService,
    private readonly breaches: BreachesRepository,
    private readonly deadLetters: DeadLettersService,
    private readonly deliveryHealth: DeliveryHealthService,
    private readonly catalog: SlaCatalog,
  ) {}

  @Get('sla')
  @ApiOperation({ summary: 'Every SLA: kind, subject, target, current value, state, open and recent breaches (admin)' })
  @ApiOkResponse({ type: SlaOverviewDto })
  sla(): Promise<SlaOverviewDto> {
    return this.overview.overview();
  }

  @ListEndpoint('Breaches, open or resolved, newest first; filter by SLA and time (admin)', BreachPageDto, 'breaches')
  async listBreaches(@Query() q: BreachQueryDto): Promise<BreachPageDto> {
    const limit = q.limit ?? OPS_PAGE_SIZE;
    const from = q.from ? new Date(q.from) : undefined;
    const to = q.to ? new Date(q.to) : undefined;
    // from = to is allowed: the breaches open at that instant.
    if (from && to && to < from) throw invalidField('to', `must not be before from (${q.to} < ${q.from})`);
    const rows = await this.breaches.list({ slaId: q.slaId, state: q.state, from, to, cursor: q.cursor, offset: pageOffset(q, limit), limit: limit + 1 });
    const data = rows.slice(0, limit).map(breachDto);
    return { data, items: data, next: rows.length > limit ? data[data.length - 1].id : null };
  }

  @ListEndpoint('Jobs that failed every attempt, newest first (admin)', DeadLetterPageDto, 'dead-letters')
  async listDeadLetters(@Query() q: DeadLetterQueryDto): Promise<DeadLetterPageDto> {
    const limit = q.limit ?? OPS_PAGE_SIZE;
    const rows = await this.deadLetters.list({ state: q.state, queue: q.queue, cursor: q.cursor, offset: pageOffset(q, limit), limit: limit + 1 });
    const data = rows.slice(0, limit).map(deadLetterDto);
    return { data, items: data, next: rows.length > limit ? data[data.length - 1].id : null };
  }

  @Get('dead-letters/:id')
  @ApiOperation({ summary: 'One dead letter (admin)' })
  @ApiOkResponse({ type: DeadLetterDto })
  @ApiNotFoundResponse({ type: ErrorBody })
  async getDeadLetter(@Param('id') id: string): Promise<DeadLetterDto> {
    return deadLetterDto(await this.deadLetters.get(this.uuid(id)));
  }

  @Post('dead-letters/:id/retry')
  @HttpCode(202)
  @ApiOperation({ summary: 'Enqueue a dead letter again with its payload; its state becomes retrying, then done when the job completes (admin)' })
  @ApiAcceptedResponse({ type: DeadLetterDto, description: "The retry is queued; the dead letter turns done when it completes" })
  @ApiNotFoundResponse({ type: ErrorBody })
  @ApiConflictResponse({ type: ErrorBody, description: 'Already retried; or a warehouse export whose day has another export job pending' })
  @ApiServiceUnavailableResponse({ type: ErrorBody })
  async retryDeadLetter(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<DeadLetterDto> {
    return deadLetterDto(await this.deadLetters.retry(this.uuid(id), principal));
  }

  @Get('delivery-health')
  @Auth('admin', 'advertiser')
  @ApiOperation({ summary: 'Per active line item in flight: pacing state and why (an advertiser key sees its own)' })
  @ApiOkResponse({ type: DeliveryHealthDto, isArray: true })
  @ApiBadRequestResponse({ type: ErrorBody })
  async health(@Query() q: DeliveryHealthQueryDto, @CurrentPrincipal() principal: Principal): Promise<DeliveryHealthDto[]> {
    const scope = scopeOf(principal) ?? q.advertiserId;
    const spec = this.catalog.get('delivery_health')!;
    const items = await this.deliveryHealth.evaluate(spec, scope);
    return items.map((h) => ({
      lineItemId: h.lineItemId,
      campaignId: h.campaignId,
      advertiserId: h.advertiserId,
      name: h.name,
      state: h.state,
      severity: h.severity,
      reason: h.reason,
      behindPoints: Math.round(h.behindPoints * 10) / 10,
      elapsedShare: Math.round(h.elapsedShare * 1000) / 1000,
      spendShare: Math.round(h.spendShare * 1000) / 1000,
      exhaustsAt: h.exhaustsAt?.toISOString() ?? null,
      budgetMicros: h.budgetMicros,
      spentMicros: h.spentMicros,
      writtenOffMicros: h.writtenOffMicros,
      startAt: h.startAt.toISOString(),
      endAt: h.endAt.toISOString(),
    }));
  }

  @Get('queues')
  @ApiOperation({ summary: 'Per queue: waiting, active, delayed, failed, completed, oldest waiting age, paused (admin)' })
  @ApiOkResponse({ type: QueueStatsDto, isArray: true })
  @ApiServiceUnavailableResponse({ type: ErrorBody })
  queues(): Promise<QueueStatsDto[]> {
    return this.stats.all();
  }

  @Post('queues/:name/pause')
  @HttpCode(200)
  @ApiOperation({ summary: 'Stop processing a queue on every worker (jobs still enqueue and wait) (admin)' })
  @ApiOkResponse({ type: QueueStateDto })
  @ApiNotFoundResponse({ type: ErrorBody })
  @ApiServiceUnavailableResponse({ type: ErrorBody })
  pause(@Param('name') name: string): Promise<QueueStateDto> {
    return this.control.pause(name);
  }

  @Post('queues/:name/resume')
  @HttpCode(200)
  @ApiOperation({ summary: 'Restart processing a paused queue on every worker (admin)' })
  @ApiOkResponse({ type: QueueStateDto })
  @ApiNotFoundResponse({ type: ErrorBody })
  @ApiServiceUnavailableResponse({ type: ErrorBody })
  resume(@Param('name') name: string): Promise<QueueStateDto> {
    return this.control.resume(name);
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

  private uuid(id: string): string {
    if (!UUID.test(id)) throw new BadRequestException(`id must be a UUID, got ${JSON.stringify(id.slice(0, 64))}`);
    return id;
  }
}
