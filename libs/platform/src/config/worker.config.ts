import { Type } from 'class-transformer';
import { IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { PlatformConfig } from './platform.config';

/** Configuration of a worker process (apps/worker). */
export class WorkerConfig extends PlatformConfig {
  /** Jobs processed at once per queue in this process. */
  @Type(() => Number) @IsInt() @Min(1) @Max(256)
  WORKER_CONCURRENCY = 4;

  /** How long a SIGTERM waits for active jobs before the process exits anyway, in ms. */
  @Type(() => Number) @IsInt() @Min(0) @Max(600000)
  SHUTDOWN_TIMEOUT_MS = 25000;

  /** Raw-event ids rolled up per aggregation transaction (bounds its duration and memory). */
  @Type(() => Number) @IsInt() @Min(100) @Max(1000000)
  AGGREGATION_BATCH_SIZE = 50000;

  /**
   * Days rejected beacons (bad signature, malformed token) are kept for inspection. Anyone can send
   * them, so without a limit the table would grow at whatever rate garbage arrives.
   */
  @Type(() => Number) @IsInt() @Min(1) @Max(3650)
  REJECTED_EVENTS_RETENTION_DAYS = 30;

  /** How often the worker compares the declared schedules with Redis and puts back the missing ones, ms. */
  @Type(() => Number) @IsInt() @Min(1000) @Max(60_000)
  SCHEDULES_CHECK_EVERY_MS = 15_000;

  /** How often the monitor evaluates every SLA, ms (at most 15 s). */
  @Type(() => Number) @IsInt() @Min(500) @Max(15_000)
  SLA_EVALUATE_EVERY_MS = 5000;

  /** Days dead letters (jobs that failed every attempt) are kept. */
  @Type(() => Number) @IsInt() @Min(1) @Max(3650)
  DEAD_LETTER_RETENTION_DAYS = 30;

  /** The month close's deadline SLA: last month's invoices drafted by this hour of day 2, advertiser's local time. */
  @Type(() => Number) @IsInt() @Min(0) @Max(23)
  BILLING_DRAFT_DEADLINE_HOUR = 6;

  /** How often the month close looks for advertisers whose month ended in their zone (and drafts their invoice), ms. */
  @Type(() => Number) @IsInt() @Min(1000) @Max(24 * 3600_000)
  BILLING_MONTH_CLOSE_EVERY_MS = 3_600_000;

  /** Folder of the warehouse export (Parquet, Hive-style: <table>/date=YYYY-MM-DD/part-NNNN.parquet and _manifest.json). */
  @IsString() @Matches(/^\S(.*\S)?$/, { message: 'EXPORT_DIR must be a folder path without surrounding spaces' })
  EXPORT_DIR = './data/export';

  /** Most rows per Parquet part file of an exported day (a day of 10,000,000 events is 20 parts at the default; the worker's peak memory grows with it). */
  @Type(() => Number) @IsInt() @Min(1000) @Max(100_000_000)
  EXPORT_PART_ROWS = 500_000;

  /** DuckDB's memory limit while it writes Parquet, MB (it spills to the day's temporary folder beyond it). */
  @Type(() => Number) @IsInt() @Min(16) @Max(65_536)
  EXPORT_MEMORY_LIMIT_MB = 64;

  /** The export's deadline SLA: a UTC day must be exported and verified this many hours after it closes (its last token expired). */
  @Type(() => Number) @IsInt() @Min(1) @Max(24 * 30)
  EXPORT_DEADLINE_HOURS = 6;

  /** How often invoices, rollups and raw events are reconciled for the current and previous month, ms. */
  @Type(() => Number) @IsInt() @Min(1000) @Max(24 * 3600_000)
  BILLING_RECONCILE_EVERY_MS = 3_600_000;
}
