/**
 * `npm run export -- --date YYYY-MM-DD [--verify-only]`: exports one UTC day of raw events and hourly
 * rollups to EXPORT_DIR as Parquet, in this process, with the worker's own code (same lock, same
 * state in data_exports, same manifests), then verifies it. Settings come from the environment or
 * .env, as for the worker. Today, or a day still receiving events, is exported as partial.
 *
 * Exit codes: 0 exported and verified (or partial); 1 failed; 2 bad arguments; 3 the day is being
 * exported by another run; 4 verification found a difference.
 */
import { WorkerConfig, loadConfigOrExit, mysqlOptions } from '@app/platform';
import { DayExporter, ExportBusyError, ExportSourceRepository, ExportStateRepository, ExportVerifier, dayOf, dayStartMs } from '@app/warehouse';
import { Logger } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';

function usage(problem: string): never {
  process.stderr.write(`${problem}\nusage: npm run export -- --date YYYY-MM-DD [--verify-only]\n`);
  process.exit(2);
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const at = args.indexOf('--date');
  const date = at >= 0 ? args[at + 1] : undefined;
  if (!date) usage('--date is required');
  if (dayStartMs(date) === null) usage(`--date must be a UTC calendar day YYYY-MM-DD, got ${JSON.stringify(date)}`);
  if (date > dayOf(Date.now())) usage(`--date must not be in the future (today is ${dayOf(Date.now())} UTC)`);
  const unknown = args.filter((a, i) => a.startsWith('--') && a !== '--date' && a !== '--verify-only' && i !== at + 1);
  if (unknown.length > 0) usage(`unknown option(s) ${unknown.join(', ')}`);

  const envFile = join(__dirname, '..', '.env');
  if (existsSync(envFile) && typeof process.loadEnvFile === 'function') process.loadEnvFile(envFile);
  const config = loadConfigOrExit(WorkerConfig);
  const dataSource = new DataSource({ ...mysqlOptions(config), poolSize: 2, extra: { connectionLimit: 2 } });
  await dataSource.initialize();
  try {
    const state = new ExportStateRepository(dataSource);
    const source = new ExportSourceRepository(dataSource);
    const verifier = new ExportVerifier(source, state, config);
    if (!args.includes('--verify-only')) {
      const exported = await new DayExporter(state, source, config).exportDay(date);
      process.stdout.write(`${JSON.stringify({ exported }, null, 2)}\n`);
    }
    const verified = await verifier.verifyDay(date);
    process.stdout.write(`${JSON.stringify({ verified: verified.map((v) => ({ table: v.table, state: v.state, reason: v.reason, differences: v.verification?.differences })) }, null, 2)}\n`);
    return verified.some((v) => v.state === 'mismatch') ? 4 : 0;
  } catch (err) {
    if (err instanceof ExportBusyError) {
      process.stderr.write(`${err.message}; try again when it has finished\n`);
      return 3;
    }
    throw err;
  } finally {
    await dataSource.destroy();
  }
}

Logger.overrideLogger(['log', 'warn', 'error']);
main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`export failed: ${err.message}\n`);
    process.exit(1);
  },
);
