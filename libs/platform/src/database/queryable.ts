import type { DataSource, QueryRunner } from 'typeorm';

/** Anything that runs SQL with `?` parameters: a TypeORM DataSource, EntityManager or QueryRunner. */
export interface Queryable {
  query<T = unknown>(sql: string, parameters?: unknown[]): Promise<T>;
}

/** Runs `work` on one connection of the pool (session settings, locks and transactions stay on it), released whatever happens. */
export async function onOneConnection<T>(dataSource: DataSource, work: (runner: QueryRunner) => Promise<T>): Promise<T> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    return await work(runner);
  } finally {
    await runner.release();
  }
}
