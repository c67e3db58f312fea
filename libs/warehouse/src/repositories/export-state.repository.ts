import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { RAW_EVENT_DAY_SQL, type ExportTableName } from '../export/export-tables';
import type { DayManifest } from '../export/manifest';

export type ExportState = 'running' | 'exported' | 'verified' | 'mismatch' | 'failed';

/** One row of data_exports: the state of one table's export of one UTC day. */
export interface ExportRow {
  day: string;
  table: ExportTableName;
  state: ExportState;
  partial: boolean;
  rows: number | null;
  manifest: DayManifest | null;
  verification: Record<string, unknown> | null;
  error: string | null;
  runId: string | null;
  startedAt: Date;
  finishedAt: Date | null;
  verifiedAt: Date | null;
}

const COLUMNS = 'DATE_FORMAT(day, \'%Y-%m-%d\') AS day, table_name, state, `partial`, `rows`, manifest, verification, error, run_id, started_at, finished_at, verified_at';

function json<T>(value: unknown): T | null {
  if (value === null || value === undefined) return null;
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

function toRow(r: Record<string, unknown>): ExportRow {
  return {
    day: r.day as string,
    table: r.table_name as ExportTableName,
    state: r.state as ExportState,
    partial: Number(r.partial) === 1,
    rows: r.rows === null ? null : Number(r.rows),
    manifest: json<DayManifest>(r.manifest),
    verification: json<Record<string, unknown>>(r.verification),
    error: (r.error as string | null) ?? null,
    runId: (r.run_id as string | null) ?? null,
    startedAt: r.started_at as Date,
    finishedAt: (r.finished_at as Date | null) ?? null,
    verifiedAt: (r.verified_at as Date | null) ?? null,
  };
}

/**
 * data_exports, shared with retention (which drops a day's raw events only when its raw_events row is
 * verified and not partial). Every write of a run names its run_id, so a run that was taken over can
 * no longer change the row.
 */
@Injectable()
export class ExportStateRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async get(day: string, table: ExportTableName): Promise<ExportRow | null> {
    const rows = (await this.dataSource.query(`SELECT ${COLUMNS} FROM data_exports WHERE day = ? AND table_name = ?`, [day, table])) as Record<string, unknown>[];
    return rows.length > 0 ? toRow(rows[0]) : null;
  }

  /** Rows of days in [from, to] (both optional), newest day first; a page of `limitDays` days after skipping `offsetDays`. */
  async list(filter: { from?: string; to?: string; before?: string; limitDays?: number; offsetDays?: number } = {}): Promise<ExportRow[]> {
    let where: string[] = [];
    let params: unknown[] = [];
    const add = (condition: string, value: string | undefined) => {
      if (value === undefined) return;
      where.push(condition);
      params.push(value);
    };
    add('day >= ?', filter.from);
    add('day <= ?', filter.to);
    add('day < ?', filter.before);
    if (filter.limitDays !== undefined) {
      // The page's days first, then all their tables' rows.
      const found = (await this.dataSource.query(
        `SELECT DISTINCT DATE_FORMAT(day, '%Y-%m-%d') AS day FROM data_exports ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY day DESC LIMIT ? OFFSET ?`,
        [...params, filter.limitDays, filter.offsetDays ?? 0],
      )) as Array<{ day: string }>;
      if (found.length === 0) return [];
      where = [`day IN (${found.map(() => '?').join(', ')})`];
      params = found.map((d) => d.day);
    }
    const rows = (await this.dataSource.query(`SELECT ${COLUMNS} FROM data_exports ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY day DESC, table_name`, params)) as Record<string, unknown>[];
    return rows.map(toRow);
  }

  /**
   * Marks a run of one table's day as running (the caller holds the day's export lock, so any other
   * `running` row is a dead run's and is taken over); returns the row it replaced.
   */
  async start(day: string, table: ExportTableName, runId: string, partial: boolean, now: Date): Promise<ExportRow | null> {
    const previous = await this.get(day, table);
    await this.dataSource.query(
      `INSERT INTO data_exports (day, table_name, state, \`partial\`, \`rows\`, manifest, verification, error, run_id, started_at, finished_at, verified_at)
       VALUES (?, ?, 'running', ?, NULL, NULL, NULL, NULL, ?, ?, NULL, NULL)
       ON DUPLICATE KEY UPDATE state = 'running', \`partial\` = VALUES(\`partial\`), \`rows\` = NULL, manifest = NULL, verification = NULL, error = NULL,
         run_id = VALUES(run_id), started_at = VALUES(started_at), finished_at = NULL, verified_at = NULL`,
      [day, table, partial ? 1 : 0, runId, now],
    );
    return previous;
  }

  async exported(day: string, table: ExportTableName, runId: string, manifest: DayManifest, now: Date): Promise<void> {
    await this.dataSource.query("UPDATE data_exports SET state = 'exported', `rows` = ?, manifest = ?, finished_at = ? WHERE day = ? AND table_name = ? AND run_id = ?", [
      manifest.rows,
      JSON.stringify(manifest),
      now,
      day,
      table,
      runId,
    ]);
  }

  async failed(day: string, table: ExportTableName, runId: string, error: string, now: Date): Promise<void> {
    await this.dataSource.query("UPDATE data_exports SET state = 'failed', error = ?, finished_at = ? WHERE day = ? AND table_name = ? AND run_id = ? AND state = 'running'", [
      error.slice(0, 1000),
      now,
      day,
      table,
      runId,
    ]);
  }

  /** Records a verification of the run that wrote the manifest (false when another run has started since). */
  async verified(day: string, table: ExportTableName, runId: string, ok: boolean, verification: Record<string, unknown>, now: Date): Promise<boolean> {
    const result = (await this.dataSource.query(
      "UPDATE data_exports SET state = ?, verification = ?, verified_at = ? WHERE day = ? AND table_name = ? AND run_id = ? AND state IN ('exported', 'verified', 'mismatch')",
      [ok ? 'verified' : 'mismatch', JSON.stringify(verification), now, day, table, runId],
    )) as { affectedRows: number };
    return result.affectedRows === 1;
  }

  /** The day of the oldest raw event still in MySQL (by id), or null when there is none. */
  async firstRawEventDay(): Promise<string | null> {
    const rows = (await this.dataSource.query(`SELECT DATE_FORMAT(${RAW_EVENT_DAY_SQL}, '%Y-%m-%d') AS day FROM raw_events ORDER BY id LIMIT 1`)) as Array<{ day: string }>;
    return rows[0]?.day ?? null;
  }

  /** Whether an export of the day holds its lock now (a worker's job or `npm run export`). */
  async lockHeld(lockName: string): Promise<boolean> {
    const [row] = (await this.dataSource.query('SELECT IS_USED_LOCK(?) AS holder', [lockName])) as Array<{ holder: string | number | null }>;
    return row.holder !== null;
  }

  /** Final (not partial) exports whose verification found a difference. */
  async mismatchCount(): Promise<number> {
    const [row] = (await this.dataSource.query("SELECT COUNT(*) AS n FROM data_exports WHERE state = 'mismatch' AND `partial` = 0")) as Array<{ n: string }>;
    return Number(row.n);
  }
}
