import { PageNumberQueryDto } from '@app/platform';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsISO8601, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';

export class QueueProbeDto {
  @ApiProperty({ example: '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f' })
  id: string;

  @ApiProperty({ example: 'maintenance' })
  queue: string;

  @ApiProperty({ enum: ['pending', 'processed'], example: 'processed' })
  status: 'pending' | 'processed';

  @ApiProperty({ example: '2026-11-25T21:30:00.000Z' })
  createdAt: string;

  @ApiProperty({ type: String, nullable: true, example: '2026-11-25T21:30:00.042Z' })
  processedAt: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'host:pid of the worker that ran the job', example: 'worker-1:4242' })
  processedBy: string | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Milliseconds from enqueue to completion', example: 42 })
  roundTripMs: number | null;
}

export class QueueStatsDto {
  @ApiProperty({ example: 'aggregation' })
  queue: string;

  @ApiProperty({ example: 0 }) waiting: number;
  @ApiProperty({ example: 1 }) active: number;
  @ApiProperty({ example: 0 }) delayed: number;
  @ApiProperty({ example: 0 }) failed: number;
  @ApiProperty({ example: 120 }) completed: number;

  @ApiProperty({ type: Number, nullable: true, description: 'Age in seconds of the oldest waiting job', example: 0.4 })
  oldestWaitingAgeSeconds: number | null;

  @ApiProperty({ description: 'True while the queue is paused: no worker takes its jobs (POST /v1/ops/queues/:name/resume)', example: false })
  paused: boolean;
}

export class QueueStateDto {
  @ApiProperty({ example: 'aggregation' }) queue: string;
  @ApiProperty({ description: 'True while no worker takes new jobs from the queue', example: true }) paused: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const EXAMPLE_ID = '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f';

export class OpsPageQueryDto extends PageNumberQueryDto {
  @ApiPropertyOptional({ description: 'Page size, 1..100', minimum: 1, maximum: 100, default: 50, example: 50 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(100)
  limit?: number;

  @ApiPropertyOptional({ description: 'The `next` value of the previous page', example: EXAMPLE_ID })
  @IsOptional() @Matches(UUID, { message: 'cursor must be the `next` value of a previous page' })
  cursor?: string;
}

export class BreachQueryDto extends OpsPageQueryDto {
  @ApiPropertyOptional({ description: 'Only breaches of this SLA id (see GET /v1/ops/sla)', example: 'aggregation.freshness' })
  @IsOptional() @IsString() @Length(1, 100)
  slaId?: string;

  @ApiPropertyOptional({ enum: ['open', 'resolved'] })
  @IsOptional() @IsIn(['open', 'resolved'])
  state?: 'open' | 'resolved';

  @ApiPropertyOptional({ description: 'Breaches still open at or ending after this time (ISO-8601)', example: '2026-11-25T00:00:00Z' })
  @IsOptional() @IsISO8601({ strict: true }, { message: 'from must be an ISO-8601 time' })
  from?: string;

  @ApiPropertyOptional({ description: 'Breaches started before this time (ISO-8601); not before `from` (400)', example: '2026-11-26T00:00:00Z' })
  @IsOptional() @IsISO8601({ strict: true }, { message: 'to must be an ISO-8601 time' })
  to?: string;
}

export class DeadLetterQueryDto extends OpsPageQueryDto {
  @ApiPropertyOptional({ enum: ['dead', 'retrying', 'done'] })
  @IsOptional() @IsIn(['dead', 'retrying', 'done'])
  state?: 'dead' | 'retrying' | 'done';

  @ApiPropertyOptional({ example: 'maintenance' })
  @IsOptional() @IsString() @Length(1, 64)
  queue?: string;
}

export class DeliveryHealthQueryDto {
  @ApiPropertyOptional({ description: 'Admin only: one advertiser (an advertiser key always sees its own)', example: EXAMPLE_ID })
  @IsOptional() @Matches(UUID, { message: 'advertiserId must be a UUID' })
  advertiserId?: string;
}

export class BreachDto {
  @ApiProperty({ example: EXAMPLE_ID }) id: string;
  @ApiProperty({ example: 'aggregation.freshness' }) slaId: string;
  @ApiProperty({ enum: ['queue_wait', 'run_time', 'success_ratio', 'freshness', 'deadline', 'delivery_health', 'reconciliation', 'verification'], example: 'freshness' }) kind: string;
  @ApiProperty({ example: 'measurement.aggregation' }) subject: string;
  @ApiProperty({ description: "Why: 'breached', or a delivery health state ('behind', 'critical', 'stalled', 'exhausting_early')", example: 'breached' }) cause: string;
  @ApiProperty({ enum: ['warning', 'critical'] }) severity: string;
  @ApiProperty({ enum: ['open', 'resolved'] }) state: string;
  @ApiProperty({ description: 'The alerts of this breach (firing and resolved) carry this key', example: 'aggregation.freshness/measurement.aggregation/0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f' }) dedupKey: string;
  @ApiProperty({ example: 's' }) unit: string;
  @ApiProperty({ example: 60 }) target: number;
  @ApiProperty({ description: 'Value when it opened', example: 61.2 }) firstValue: number;
  @ApiProperty({ example: 212.5 }) worstValue: number;
  @ApiProperty({ description: 'Latest value (when resolved: the value it resolved at)', example: 0 }) lastValue: number;
  @ApiProperty({ type: String, nullable: true, example: null }) detail: string | null;
  @ApiProperty({ example: '2026-11-25T21:30:00.000Z' }) startedAt: string;
  @ApiProperty({ type: String, nullable: true, example: '2026-11-25T21:34:10.000Z' }) endedAt: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'When the firing alert was delivered', example: '2026-11-25T21:30:00.210Z' }) firingSentAt: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'When the resolved alert was delivered', example: null }) resolvedSentAt: string | null;
}

export class BreachPageDto {
  @ApiProperty({ type: BreachDto, isArray: true, description: 'The breaches of this page' }) data: BreachDto[];
  @ApiProperty({ type: BreachDto, isArray: true, deprecated: true, description: 'Deprecated: the same rows as `data`, kept for existing clients; read `data`' }) items: BreachDto[];
  @ApiProperty({ type: String, nullable: true, example: null }) next: string | null;
}

export class SlaReadingDto {
  @ApiProperty({ example: 'measurement.aggregation' }) subject: string;
  @ApiProperty({ type: Number, nullable: true, description: 'Null while there is nothing to judge (too few samples, no source yet)', example: 0.4 }) value: number | null;
  @ApiProperty({ enum: ['ok', 'warning', 'breached', 'unknown'] }) state: string;
  @ApiPropertyOptional({ example: 120 }) samples?: number;
  @ApiPropertyOptional({ description: 'Delivery health state', example: 'on_track' }) cause?: string;
}

export class SlaDto {
  @ApiProperty({ example: 'aggregation.freshness' }) id: string;
  @ApiProperty({ enum: ['queue_wait', 'run_time', 'success_ratio', 'freshness', 'deadline', 'delivery_health', 'reconciliation', 'verification'] }) kind: string;
  @ApiProperty({ example: 'measurement.aggregation' }) subject: string;
  @ApiProperty({ example: 'Age of the oldest stored event not yet in the rollups' }) description: string;
  @ApiProperty({ enum: ['s', 'ratio', 'points', 'hour', 'lines', 'exports'] }) unit: string;
  @ApiProperty({ example: 60 }) target: number;
  @ApiPropertyOptional({ example: 15 }) warn?: number;
  @ApiProperty({ example: 0 }) windowSeconds: number;
  @ApiProperty({ enum: ['above', 'below'], description: 'Breached when the value goes above (or below) the target' }) direction: string;
  @ApiProperty({ enum: ['ok', 'warning', 'breached', 'unknown'], description: 'Worst state over its subjects at the last evaluation' }) state: string;
  @ApiProperty({ type: Number, nullable: true, description: 'The value (worst over subjects) at the last evaluation', example: 0.4 }) value: number | null;
  @ApiProperty({ type: SlaReadingDto, isArray: true }) readings: SlaReadingDto[];
  @ApiProperty({ type: BreachDto, isArray: true }) openBreaches: BreachDto[];
  @ApiProperty({ type: BreachDto, isArray: true, description: 'The last 5 resolved breaches' }) recentBreaches: BreachDto[];
}

export class SlaOverviewDto {
  @ApiProperty({ type: String, nullable: true, description: 'When a worker last evaluated the SLAs', example: '2026-11-25T21:30:00.000Z' }) evaluatedAt: string | null;
  @ApiProperty({ type: SlaDto, isArray: true }) slas: SlaDto[];
}

export class DeadLetterDto {
  @ApiProperty({ example: EXAMPLE_ID }) id: string;
  @ApiProperty({ example: 'maintenance' }) queue: string;
  @ApiProperty({ example: 'ops.probe' }) jobName: string;
  @ApiProperty({ type: String, nullable: true, example: 'probe-0192f1c4' }) jobId: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The job payload, as enqueued', example: { probeId: EXAMPLE_ID } }) payload: unknown;
  @ApiProperty({ example: 'probe 0192f1c4 not found' }) error: string;
  @ApiProperty({ example: 3 }) attempts: number;
  @ApiProperty({ example: '2026-11-25T21:30:00.000Z' }) failedAt: string;
  @ApiProperty({ enum: ['dead', 'retrying', 'done'], description: 'dead: waiting for a retry; retrying: enqueued again; done: the retry completed' }) state: string;
  @ApiProperty({ type: String, nullable: true }) retryJobId: string | null;
  @ApiProperty({ type: String, nullable: true }) retriedAt: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'admin' }) retriedBy: string | null;
  @ApiProperty({ type: String, nullable: true }) doneAt: string | null;
}

export class DeadLetterPageDto {
  @ApiProperty({ type: DeadLetterDto, isArray: true, description: 'The dead letters of this page' }) data: DeadLetterDto[];
  @ApiProperty({ type: DeadLetterDto, isArray: true, deprecated: true, description: 'Deprecated: the same rows as `data`, kept for existing clients; read `data`' }) items: DeadLetterDto[];
  @ApiProperty({ type: String, nullable: true, example: null }) next: string | null;
}

export class DeliveryHealthDto {
  @ApiProperty({ example: EXAMPLE_ID }) lineItemId: string;
  @ApiProperty({ example: EXAMPLE_ID }) campaignId: string;
  @ApiProperty({ example: EXAMPLE_ID }) advertiserId: string;
  @ApiProperty({ example: 'Morning drive, US' }) name: string;
  @ApiProperty({ enum: ['on_track', 'behind', 'critical', 'stalled', 'exhausting_early'] }) state: string;
  @ApiProperty({ enum: ['ok', 'warning', 'critical'] }) severity: string;
  @ApiProperty({ description: 'Why, in words', example: 'spent 12.0% of budget at 50.0% of flight: 38.0 points behind (warns at 20)' }) reason: string;
  @ApiProperty({ description: 'Elapsed share of the flight minus spent share of the budget, points (0 when ahead)', example: 38 }) behindPoints: number;
  @ApiProperty({ example: 0.5 }) elapsedShare: number;
  @ApiProperty({ example: 0.12 }) spendShare: number;
  @ApiProperty({ type: String, nullable: true, description: 'When the budget runs out at the recent spend rate, when that is before the flight ends', example: null }) exhaustsAt: string | null;
  @ApiProperty({ example: 5000000 }) budgetMicros: number;
  @ApiProperty({ example: 600000, description: 'Billed so far (never past the budget)' }) spentMicros: number;
  @ApiProperty({ example: 0, description: 'Delivered past the budget (late events, clicks above the estimate): written off, never billed' }) writtenOffMicros: number;
  @ApiProperty({ example: '2026-11-20T00:00:00.000Z' }) startAt: string;
  @ApiProperty({ example: '2026-11-30T00:00:00.000Z' }) endAt: string;
}
