import type { JobsOptions } from 'bullmq';

/**
 * The one registry of queues and jobs. A job name maps to its queue, its payload type and its
 * options, so `JobQueue.enqueue(name, payload)` only compiles with the right payload, and the worker
 * refuses to boot while any job here has no handler.
 *
 * Job names use dots, never ':' (BullMQ reserves it in ids). Payloads carry ids and windows only;
 * state lives in MySQL.
 */
export enum QueueName {
  Maintenance = 'maintenance',
  Aggregation = 'aggregation',
  /** SLA evaluation and alert delivery: apart, so that pausing or flooding another queue never silences them. */
  Monitoring = 'monitoring',
  /** Warehouse exports: long, memory-bound runs, one at a time per worker (see QUEUE_WORKERS). */
  Warehouse = 'warehouse',
}

export enum JobName {
  /** Round trip through the queue and a worker: proves the pipeline is alive (ops probe). */
  OpsProbe = 'ops.probe',
  /** Completes campaigns and line items whose flight end has passed (set-based; periodic and at flight ends). */
  CampaignsCompleteExpired = 'campaigns.complete-expired',
  /** Rolls newly stored raw events into hourly rollups and reach, exactly once (watermark). */
  MeasurementAggregate = 'measurement.aggregate',
  /** Rebuilds delivery's Redis counters (spend, frequency, rates) from MySQL when Redis lost them. */
  MeasurementRestoreCounters = 'measurement.restore-counters',
  /** Adds the day partitions of the coming days to raw_events, reach_hourly and rejected_events (daily, and at worker boot). */
  MeasurementPartitions = 'measurement.partitions',
  /** Drops day partitions past their retention: raw events only once their export is verified (daily). */
  MeasurementRetention = 'measurement.retention',
  /** Evaluates every SLA, opens and resolves breaches (scheduled every SLA_EVALUATE_EVERY_MS). */
  OpsEvaluateSlas = 'ops.evaluate-slas',
  /** Delivers one breach alert (firing or resolved) to ALERT_WEBHOOK_URL, retried until it answers 2xx. */
  OpsSendAlert = 'ops.send-alert',
  /** Deletes dead letters older than DEAD_LETTER_RETENTION_DAYS (hourly). */
  OpsPruneDeadLetters = 'ops.prune-dead-letters',
  /** Drafts the invoice of every advertiser whose month has ended in its timezone (hourly). */
  BillingCloseMonth = 'billing.close-month',
  /** Checks invoice lines = rollup spend = raw events for the current and previous month, records differences. */
  BillingReconcile = 'billing.reconcile',
  /** Deletes stored Idempotency-Key answers past their retention (hourly). */
  PlatformPruneIdempotencyKeys = 'platform.prune-idempotency-keys',
  /** Enqueues the export of every closed UTC day not yet exported, and the verification of any left unverified (hourly). */
  WarehousePlanExports = 'warehouse.plan-exports',
  /** Exports one UTC day of raw events and hourly rollups to EXPORT_DIR as Parquet, then verifies it. */
  WarehouseExportDay = 'warehouse.export-day',
  /** Compares one exported day's manifests with MySQL and the files on disk; records verified or mismatch. */
  WarehouseVerifyDay = 'warehouse.verify-day',
}

export interface JobPayloads {
  [JobName.OpsProbe]: {
    /** Id of the queue_probes row to mark processed. */
    probeId: string;
  };
  /** Nothing: the job completes whatever has ended when it runs. */
  [JobName.CampaignsCompleteExpired]: Record<string, never>;
  [JobName.MeasurementAggregate]: {
    /** What asked for the run; the job itself reads its window from the watermark. */
    trigger: 'schedule' | 'ingest' | 'backlog';
  };
  [JobName.MeasurementRestoreCounters]: {
    trigger: 'schedule';
  };
  [JobName.MeasurementPartitions]: {
    trigger: 'schedule';
  };
  [JobName.MeasurementRetention]: {
    trigger: 'schedule';
  };
  [JobName.OpsEvaluateSlas]: {
    trigger: 'schedule';
  };
  [JobName.OpsSendAlert]: {
    /** The sla_breaches row the alert is about. */
    breachId: string;
    status: 'firing' | 'resolved';
  };
  [JobName.OpsPruneDeadLetters]: {
    trigger: 'schedule';
  };
  /** The job reads the clock and each advertiser's timezone when it runs. */
  [JobName.BillingCloseMonth]: {
    trigger: 'schedule';
  };
  [JobName.BillingReconcile]: {
    trigger: 'schedule';
  };
  [JobName.PlatformPruneIdempotencyKeys]: {
    trigger: 'schedule';
  };
  [JobName.WarehousePlanExports]: {
    trigger: 'schedule';
  };
  [JobName.WarehouseExportDay]: {
    /** The UTC day, YYYY-MM-DD. */
    date: string;
    trigger: 'schedule' | 'request';
  };
  [JobName.WarehouseVerifyDay]: {
    /** The UTC day, YYYY-MM-DD. */
    date: string;
  };
}

interface JobDefinition {
  queue: QueueName;
  options: JobsOptions;
}

const retention = {
  removeOnComplete: { age: 3600, count: 1000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 5000 },
} satisfies JobsOptions;

const retried = (attempts: number, delayMs: number): JobsOptions => ({
  attempts,
  backoff: { type: 'exponential', delay: delayMs },
  ...retention,
});

/** Frequent, idempotent jobs that the next run supersedes: no retries, few kept. */
const frequent: JobsOptions = { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { age: 24 * 3600, count: 500 } };

/** Longest wait between two attempts of a job retried with CAPPED_BACKOFF, ms. */
export const CAPPED_BACKOFF_MAX_MS = 60_000;
/** Exponential backoff from `delay`, capped at CAPPED_BACKOFF_MAX_MS (see the worker's backoffStrategy). */
export const CAPPED_BACKOFF = 'capped-exponential';

/** Retried for about a week, at most a minute apart: for deliveries to outside systems that must arrive. */
const untilDelivered: JobsOptions = { attempts: 10_000, backoff: { type: CAPPED_BACKOFF, delay: 1000 }, ...retention };

export const JOBS: { readonly [N in JobName]: JobDefinition } = {
  [JobName.OpsProbe]: { queue: QueueName.Maintenance, options: retried(3, 500) },
  [JobName.CampaignsCompleteExpired]: { queue: QueueName.Maintenance, options: retried(3, 1000) },
  [JobName.MeasurementAggregate]: { queue: QueueName.Aggregation, options: frequent },
  [JobName.MeasurementRestoreCounters]: { queue: QueueName.Aggregation, options: frequent },
  [JobName.MeasurementPartitions]: { queue: QueueName.Maintenance, options: retried(5, 30_000) },
  [JobName.MeasurementRetention]: { queue: QueueName.Maintenance, options: retried(3, 60_000) },
  [JobName.OpsEvaluateSlas]: { queue: QueueName.Monitoring, options: frequent },
  [JobName.OpsSendAlert]: { queue: QueueName.Monitoring, options: untilDelivered },
  [JobName.OpsPruneDeadLetters]: { queue: QueueName.Maintenance, options: retried(3, 5000) },
  [JobName.BillingCloseMonth]: { queue: QueueName.Maintenance, options: retried(3, 10_000) },
  [JobName.BillingReconcile]: { queue: QueueName.Maintenance, options: retried(3, 10_000) },
  [JobName.PlatformPruneIdempotencyKeys]: { queue: QueueName.Maintenance, options: retried(3, 5000) },
  [JobName.WarehousePlanExports]: { queue: QueueName.Maintenance, options: retried(3, 10_000) },
  // Ids are per day (export-day-YYYY-MM-DD): a finished run is removed so that the day can be asked for again.
  [JobName.WarehouseExportDay]: { queue: QueueName.Warehouse, options: { ...retried(5, 30_000), removeOnComplete: true } },
  [JobName.WarehouseVerifyDay]: { queue: QueueName.Warehouse, options: { ...retried(3, 30_000), removeOnComplete: true } },
};

/** Per-queue worker settings that differ from the defaults (WORKER_CONCURRENCY, 60 s locks). */
export interface QueueWorkerSettings {
  /** Jobs of the queue processed at once per worker process, whatever WORKER_CONCURRENCY says. */
  concurrency?: number;
  /** How long a job's lock lasts without renewal, ms: a killed worker's job is taken over after about this plus stalledIntervalMs. */
  lockDurationMs?: number;
  /** How often the worker looks for jobs whose worker died, ms. */
  stalledIntervalMs?: number;
}

export const QUEUE_WORKERS: { readonly [Q in QueueName]?: QueueWorkerSettings } = {
  // One export per worker process keeps its memory bounded (DuckDB's memory_limit plus one stream); a killed
  // worker's export is taken over within about half a minute.
  [QueueName.Warehouse]: { concurrency: 1, lockDurationMs: 20_000, stalledIntervalMs: 10_000 },
};

export const ALL_QUEUES: readonly QueueName[] = Object.values(QueueName);
export const ALL_JOBS: readonly JobName[] = Object.values(JobName);
