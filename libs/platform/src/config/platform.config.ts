import { Type, plainToInstance } from 'class-transformer';
import { IsIn, IsInt, IsNotEmpty, IsNumber, IsOptional, IsString, Matches, Max, Min, Validate, ValidationArguments, ValidatorConstraint, ValidatorConstraintInterface, validateSync } from 'class-validator';
import { parseRedisClusterNodes } from '../redis/redis-client';

/**
 * A setting validated by parsing it: valid when `parse` makes something of it (null: it could not),
 * so what validates it and what reads it cannot disagree.
 */
function parsedBy(name: string, parse: (value: unknown) => unknown, message: string): new () => ValidatorConstraintInterface {
  @ValidatorConstraint({ name })
  class ParsedShape implements ValidatorConstraintInterface {
    validate(value: unknown): boolean {
      return parse(value) !== null;
    }

    defaultMessage(): string {
      return message;
    }
  }
  return ParsedShape;
}

export interface SlaOverride {
  target?: number;
  warn?: number;
  windowSeconds?: number;
}

/** Parsed SLA_OVERRIDES, or null when it is not of the expected shape. */
export function parseSlaOverrides(value: unknown): Record<string, SlaOverride> | null {
  if (value === undefined || value === '') return {};
  if (typeof value !== 'string') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return null;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  for (const entry of Object.values(parsed as Record<string, unknown>)) {
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) return null;
    for (const [k, v] of Object.entries(entry)) {
      if (!['target', 'warn', 'windowSeconds'].includes(k) || typeof v !== 'number' || !Number.isFinite(v) || v < 0) return null;
    }
  }
  return parsed as Record<string, SlaOverride>;
}

/** RAW_EVENTS_RETENTION_DAYS must exceed TRACKING_TOKEN_TTL by two days (ingestion's day floor, clock skew). */
@ValidatorConstraint({ name: 'retentionOutlivesTokens' })
export class RetentionOutlivesTokens implements ValidatorConstraintInterface {
  validate(days: unknown, args: ValidationArguments): boolean {
    const ttlSeconds = Number((args.object as { TRACKING_TOKEN_TTL?: unknown }).TRACKING_TOKEN_TTL);
    return typeof days === 'number' && Number.isFinite(ttlSeconds) && days * 86_400 >= ttlSeconds + 2 * 86_400;
  }

  defaultMessage(): string {
    return 'RAW_EVENTS_RETENTION_DAYS must be at least TRACKING_TOKEN_TTL (in days) plus 2';
  }
}

/**
 * Settings every process needs: MySQL, Redis and the key prefix. Each app extends this with its own
 * class, validated once before Nest boots (see loadConfig), so a wrong variable stops the process with
 * its name instead of failing on first use.
 */
export class PlatformConfig {
  @IsIn(['development', 'test', 'production'])
  NODE_ENV: 'development' | 'test' | 'production' = 'development';

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /** json: one JSON object a line (production, tests); pretty: coloured lines for people (needs pino-pretty); auto: pretty when NODE_ENV=development. */
  @IsIn(['auto', 'json', 'pretty'])
  LOG_FORMAT: 'auto' | 'json' | 'pretty' = 'auto';

  @IsString() @IsNotEmpty()
  DB_HOST = '127.0.0.1';

  @Type(() => Number) @IsInt() @Min(1) @Max(65535)
  DB_PORT = 3306;

  @IsString() @IsNotEmpty()
  DB_USER = 'root';

  @IsString()
  DB_PASSWORD = '';

  @IsString() @Matches(/^[A-Za-z0-9_]{1,64}$/, { message: 'DB_NAME must be 1-64 letters, digits or underscores' })
  DB_NAME = 'adplatform';

  /** Connections per process in the MySQL pool. */
  @Type(() => Number) @IsInt() @Min(1) @Max(500)
  DB_POOL_SIZE = 20;

  @Matches(/^rediss?:\/\/[^\s]+$/, { message: 'REDIS_URL must look like redis://host:port[/db]' })
  REDIS_URL = 'redis://127.0.0.1:6379';

  /**
   * Redis Cluster instead of one Redis: comma-separated host:port of some of its masters (the rest are
   * discovered). Username, password and TLS still come from REDIS_URL; its host, port and db are unused.
   */
  @Validate(parsedBy('redisClusterNodes', parseRedisClusterNodes, 'REDIS_CLUSTER_NODES must be a comma-separated list of host:port (ports 1-65535), like 10.0.0.1:6379,10.0.0.2:6379'))
  REDIS_CLUSTER_NODES = '';

  /** Prefixes every Redis key this deployment writes (queues, counters, caches). */
  @Matches(/^[A-Za-z0-9_-]{1,40}$/, { message: 'QUEUE_PREFIX must be 1-40 letters, digits, "-" or "_"' })
  QUEUE_PREFIX = 'adp';

  /**
   * How long a served decision's expected cost is held against budgets if its event never arrives, s.
   * Events later than this (offline listening) still count; what they deliver past a budget is written off.
   */
  @Type(() => Number) @IsInt() @Min(1) @Max(24 * 3600)
  RESERVATION_WINDOW_SECONDS = 600;

  /**
   * Where SLA breach alerts are POSTed (by the workers, and by the API for its watchdog alert); empty
   * disables the webhook (breaches are still recorded and logged).
   */
  @IsOptional() @Matches(/^https?:\/\/\S+$/, { message: 'ALERT_WEBHOOK_URL must be an http(s) URL' })
  ALERT_WEBHOOK_URL?: string = undefined;

  /** Aggregation freshness SLA: age of the oldest stored event not yet in the rollups, s (breach above). */
  @Type(() => Number) @IsNumber() @Min(0.1) @Max(86400)
  SLA_FRESHNESS_TARGET_SECONDS = 60;

  /** Aggregation freshness warning level, s. */
  @Type(() => Number) @IsNumber() @Min(0.1) @Max(86400)
  SLA_FRESHNESS_WARN_SECONDS = 15;

  /** Queue wait SLA per job type: p95 of queued → processed over the window, s. */
  @Type(() => Number) @IsNumber() @Min(0.1) @Max(86400)
  SLA_QUEUE_WAIT_P95_SECONDS = 30;

  /** Run time SLA per job type: p95 of one attempt over the window, s. */
  @Type(() => Number) @IsNumber() @Min(0.1) @Max(86400)
  SLA_RUN_TIME_P95_SECONDS = 120;

  /** Success ratio SLA per job type: share of attempts that succeed over the window (breach below). */
  @Type(() => Number) @IsNumber() @Min(0) @Max(1)
  SLA_SUCCESS_RATIO = 0.9;

  /** Attempts needed in the window before a success ratio is judged. */
  @Type(() => Number) @IsInt() @Min(1) @Max(1_000_000)
  SLA_SUCCESS_MIN_SAMPLES = 20;

  /**
   * Hysteresis: a breach resolves only after its value has stayed back at the warning level (or 80% of
   * the target) for this long, s, so a value hovering at the target does not open and close alerts.
   */
  @Type(() => Number) @IsNumber() @Min(0) @Max(86400)
  SLA_CLEAR_SECONDS = 30;

  /**
   * Per-SLA overrides, JSON: {"<sla id>": {"target": n, "warn": n, "windowSeconds": n}}; ids are checked
   * against the declared SLAs at start (GET /v1/ops/sla lists them). Empty: the defaults.
   */
  @Validate(parsedBy('slaOverrides', parseSlaOverrides, 'SLA_OVERRIDES must be a JSON object like {"aggregation.freshness":{"target":30,"warn":10,"windowSeconds":300}} with non-negative numbers'))
  SLA_OVERRIDES = '';

  /** The API raises its own alert when no SLA evaluation has happened for this long, s. */
  @Type(() => Number) @IsNumber() @Min(1) @Max(86400)
  SLA_WATCHDOG_SECONDS = 60;

  /**
   * Lifetime of a tracking token in seconds (48 h: offline listening reports late). The API signs and
   * verifies with it; the worker needs it to know how late a valid event can arrive (retention, billing,
   * and the export, which treats a UTC day as closed once its last token has expired).
   */
  @Type(() => Number) @IsInt() @Min(60) @Max(30 * 24 * 3600)
  TRACKING_TOKEN_TTL = 172800;

  /**
   * Days raw events (and the other per-event tables' day partitions) stay in MySQL; a day's partition
   * is dropped after that, and only once its warehouse export is verified. At least the token TTL plus
   * two days: a replay of a beacon that can still be valid must find its original (see docs/data-lifecycle.md).
   */
  @Type(() => Number) @IsInt() @Min(3) @Max(3650) @Validate(RetentionOutlivesTokens)
  RAW_EVENTS_RETENTION_DAYS = 35;

  /** Days from an invoice's issue to its due date. */
  @Type(() => Number) @IsInt() @Min(0) @Max(365)
  INVOICE_PAYMENT_TERMS_DAYS = 30;

  /** Hours an Idempotency-Key's answer is kept and replayed (at least 24, as the API promises). */
  @Type(() => Number) @IsInt() @Min(24) @Max(24 * 90)
  IDEMPOTENCY_TTL_HOURS = 24;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Validates `env` against a config class; throws ConfigError naming every wrong variable. */
export function loadConfig<T extends object>(cls: new () => T, env: NodeJS.ProcessEnv = process.env): T {
  const known = Object.keys(new cls());
  const raw: Record<string, string> = {};
  for (const key of known) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  // DB_PASSWORD may legitimately be empty.
  if (env.DB_PASSWORD === '' && known.includes('DB_PASSWORD')) raw.DB_PASSWORD = '';
  const config = plainToInstance(cls, raw, { exposeDefaultValues: true });
  const errors = validateSync(config, { skipMissingProperties: false });
  if (errors.length > 0) {
    throw new ConfigError(
      errors.map((e) => {
        const value = (raw as Record<string, unknown>)[e.property];
        const shown = /SECRET|KEY|PASSWORD/.test(e.property) ? '<hidden>' : JSON.stringify(value ?? null);
        return `${e.property}=${shown}: ${Object.values(e.constraints ?? {}).join('; ')}`;
      }),
    );
  }
  const derived = config as T & { withDefaults?: () => T };
  return typeof derived.withDefaults === 'function' ? derived.withDefaults() : config;
}

/** For entrypoints: validate, or print the problems in a few lines and exit 1 (no stack trace). */
export function loadConfigOrExit<T extends object>(cls: new () => T, env: NodeJS.ProcessEnv = process.env): T {
  try {
    return loadConfig(cls, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\nFix these environment variables (defaults are in .env.example) and start again.\n`);
      process.exit(1);
    }
    throw err;
  }
}
