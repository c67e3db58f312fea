import { PlatformConfig } from '@app/platform';

/** A process config pointing at the shared e2e stack's database and Redis prefix, for services built directly in a test. */
export function e2eConfig<C extends PlatformConfig>(Config: new () => C, overrides: Partial<C> = {}): C {
  return Object.assign(new Config(), {
    DB_HOST: process.env.DB_HOST ?? '127.0.0.1',
    DB_PORT: Number(process.env.DB_PORT ?? 3306),
    DB_USER: process.env.DB_USER ?? 'root',
    DB_PASSWORD: process.env.DB_PASSWORD ?? '',
    DB_NAME: process.env.E2E_DB_NAME!,
    DB_POOL_SIZE: 2,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: process.env.E2E_QUEUE_PREFIX!,
    ...overrides,
  });
}
