import { WorkerConfig, loadConfig, mysqlOptions } from '@app/platform';
import { DataSource } from 'typeorm';
import type { Stack } from '../../test/support/stack';

/** The number given as `--name N` on the command line, or `fallback`. */
export function numberArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Values as a SQL list of string literals (for ids the bench generated itself: nothing is escaped). */
export function sqlList(values: string[]): string {
  return values.map((v) => `'${v}'`).join(', ');
}

/** Runs a bench: on failure, prints the error's stack and exits 1. */
export function runBench(main: () => Promise<void>): void {
  main().catch((err: Error) => {
    process.stderr.write(`${err.stack ?? err.message}\n`);
    process.exit(1);
  });
}

/** A TypeORM DataSource on the stack's database with `connections` connections, and the worker config it is built from. */
export async function benchDataSource(stack: Stack, connections: number): Promise<{ config: WorkerConfig; dataSource: DataSource }> {
  const config = loadConfig(WorkerConfig, { ...stack.env });
  const dataSource = new DataSource({ ...mysqlOptions(config), poolSize: connections, extra: { connectionLimit: connections } });
  await dataSource.initialize();
  return { config, dataSource };
}

/** Stops the stack's processes and drops its database and Redis keys, unless run with --keep. */
export async function endStack(stack: Stack): Promise<void> {
  await stack.stop();
  if (process.argv.includes('--keep')) process.stdout.write(`kept database ${stack.env.DB_NAME}\n`);
  else await stack.dropData();
}
