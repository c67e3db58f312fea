import { PlatformConfig, WorkerConfig } from '@app/platform';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ExportSourceRepository } from '../repositories/export-source.repository';
import { ExportRow, ExportStateRepository } from '../repositories/export-state.repository';
import { ExportConnection, exportLockName } from './export-connection';
import { isOpen } from './export-days';
import { EXPORT_TABLES, ExportTable } from './export-tables';
import { DayManifest, MANIFEST_FILE } from './manifest';
import { ParquetWriter } from './parquet-writer';
import { StagedParts } from './staged-parts';

/** Another run (a worker's job or `npm run export`) holds the day's export lock. */
export class ExportBusyError extends Error {
  constructor(readonly day: string) {
    super(`an export of ${day} is already running`);
    this.name = 'ExportBusyError';
  }
}

export interface TableExportResult {
  table: string;
  rows: number;
  files: number;
  partial: boolean;
  runId: string;
  /** The run whose `running` row this one took over (a worker that died mid-export). */
  tookOver?: string;
}

/** SHA-256 of a file, streamed. */
export function sha256Of(path: string): Promise<string> {
  return new Promise((res, rej) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', rej)
      .on('end', () => res(hash.digest('hex')));
  });
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The folder of one table's day, as readers see it. */
export const dayFolder = (exportDir: string, table: string, day: string) => join(resolve(exportDir), table, `date=${day}`);

/**
 * Exports one UTC day of each table to EXPORT_DIR: rows streamed from MySQL in id order, staged, written
 * as Parquet parts by DuckDB, counted back from the files into `_manifest.json`, all in a temporary
 * folder that is fsynced and renamed into place only when complete. Readers see the previous version
 * of the day, or none, or the new one, never part of one. One run per day at a time (a MySQL lock).
 */
@Injectable()
export class DayExporter {
  private readonly logger = new Logger(DayExporter.name);

  constructor(
    private readonly state: ExportStateRepository,
    private readonly source: ExportSourceRepository,
    @Inject(PlatformConfig) private readonly config: WorkerConfig,
  ) {}

  async exportDay(day: string, now = new Date()): Promise<TableExportResult[]> {
    const partial = isOpen(day, now.getTime(), this.config.TRACKING_TOKEN_TTL);
    const connection = await ExportConnection.open(this.config);
    const lock = exportLockName(this.config.DB_NAME, day);
    try {
      if (!(await connection.tryLock(lock))) throw new ExportBusyError(day);
      const results: TableExportResult[] = [];
      for (const table of EXPORT_TABLES) results.push(await this.exportTable(connection, table, day, partial));
      return results;
    } finally {
      // Were the connection lost instead, MySQL would release the lock with it.
      await connection.close(lock).catch(() => undefined);
    }
  }

  private async exportTable(connection: ExportConnection, table: ExportTable, day: string, partial: boolean): Promise<TableExportResult> {
    const runId = randomUUID();
    const started = Date.now();
    const previous = await this.state.start(day, table.name, runId, partial, new Date());
    const tookOver = previous?.state === 'running' ? (previous.runId ?? 'unknown') : undefined;
    if (tookOver) this.logger.warn(`${table.name} ${day}: taking over run ${tookOver}, which died mid-export`);
    const tableDir = join(resolve(this.config.EXPORT_DIR), table.name);
    const tmp = join(tableDir, `.tmp-date=${day}-${runId}`);
    try {
      await mkdir(tableDir, { recursive: true });
      await this.removeLeftovers(tableDir, day);
      await mkdir(tmp);
      const manifest = await this.writeDay(connection, table, day, partial, runId, tmp);
      await this.publish(tableDir, tmp, day, runId);
      await this.state.exported(day, table.name, runId, manifest, new Date());
      this.logger.log(`${table.name} ${day}: ${manifest.rows} rows in ${manifest.files.length} file(s), ${((Date.now() - started) / 1000).toFixed(1)} s${partial ? ' (partial: the day is still open)' : ''}`);
      return { table: table.name, rows: manifest.rows, files: manifest.files.length, partial, runId, ...(tookOver ? { tookOver } : {}) };
    } catch (err) {
      await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
      await this.state.failed(day, table.name, runId, (err as Error).message, new Date()).catch(() => undefined);
      throw err;
    }
  }

  private async writeDay(connection: ExportConnection, table: ExportTable, day: string, partial: boolean, runId: string, tmp: string): Promise<DayManifest> {
    const columns = await this.source.columns(table.source, connection);
    const writer = await ParquetWriter.open(join(tmp, '.duckdb'), this.config.EXPORT_MEMORY_LIMIT_MB);
    try {
      const parts = new StagedParts(tmp, this.config.EXPORT_PART_ROWS, writer, columns);
      const streamed = await this.source.dayLines(connection, table, columns, day, parts.push);
      const written = await parts.finish();
      const paths = written.map((p) => join(tmp, p.name));
      const { rows, sums } = await writer.summarize(paths, table.measures(columns));
      if (rows !== streamed) throw new Error(`${streamed} rows streamed but ${rows} in the Parquet files`);
      const files = [];
      for (const part of written) {
        const path = join(tmp, part.name);
        await fsyncPath(path);
        files.push({ name: part.name, rows: part.rows, sha256: await sha256Of(path) });
      }
      const manifest: DayManifest = { date: day, table: table.name, partial, rows, sums, files, columns: columns.map((c) => ({ name: c.name, type: c.duckType })), runId, exportedAt: new Date().toISOString() };
      await writeFile(join(tmp, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n', { flush: true });
      return manifest;
    } finally {
      await rm(join(tmp, '.duckdb'), { recursive: true, force: true });
    }
  }

  /**
   * Puts the finished folder in place: the previous version is renamed aside, the new one renamed to
   * `date=…`, then the old one removed. Both renames are atomic and fsynced in the parent folder.
   */
  private async publish(tableDir: string, tmp: string, day: string, runId: string): Promise<void> {
    await fsyncPath(tmp);
    const final = join(tableDir, `date=${day}`);
    const old = join(tableDir, `.old-date=${day}-${runId}`);
    const hadPrevious = await rename(final, old).then(
      () => true,
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return false;
        throw err;
      },
    );
    await rename(tmp, final);
    await fsyncPath(tableDir);
    if (hadPrevious) await rm(old, { recursive: true, force: true });
  }

  /** Temporary and set-aside folders of this day from runs that died (the caller holds the day's lock). */
  private async removeLeftovers(tableDir: string, day: string): Promise<void> {
    for (const name of await readdir(tableDir)) {
      if (name.startsWith(`.tmp-date=${day}-`) || name.startsWith(`.old-date=${day}-`)) {
        this.logger.warn(`${tableDir}: removing ${name}, left by a run that died`);
        await rm(join(tableDir, name), { recursive: true, force: true });
      }
    }
  }

  /** The rows of a day in data_exports (for callers that report them). */
  rowsOf(day: string): Promise<ExportRow[]> {
    return this.state.list({ from: day, to: day });
  }
}
