import { Type, plainToInstance } from 'class-transformer';
import { IsIn, IsInt, IsNotEmpty, IsString, Matches, Max, Min, validateSync } from 'class-validator';

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

  /** Prefixes every Redis key this deployment writes (queues, counters, caches). */
  @Matches(/^[A-Za-z0-9_-]{1,40}$/, { message: 'QUEUE_PREFIX must be 1-40 letters, digits, "-" or "_"' })
  QUEUE_PREFIX = 'adp';

  /**
   * How long a served decision's expected cost is held against budgets if its event never arrives, s.
   * Events later than this (offline listening) still count; what they deliver past a budget is written off.
   */
  @Type(() => Number) @IsInt() @Min(1) @Max(24 * 3600)
  RESERVATION_WINDOW_SECONDS = 600;
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
