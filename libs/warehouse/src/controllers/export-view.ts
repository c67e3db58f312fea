import type { ExportDayDto, ExportTableDto, VerificationDto } from '../dto/export.dto';
import { EXPORT_TABLE_NAMES } from '../export/export-tables';
import type { ExportRow } from '../repositories/export-state.repository';

/** From least to most advanced: a day is as far as its least advanced table (a missing table: none). */
const PRECEDENCE = ['failed', 'running', 'none', 'mismatch', 'exported', 'verified'];

export function toTableDto(r: ExportRow): ExportTableDto {
  return {
    table: r.table,
    state: r.state,
    partial: r.partial,
    rows: r.rows,
    sums: r.manifest?.sums ?? null,
    files: r.manifest?.files ?? [],
    error: r.error,
    verification: r.verification as unknown as VerificationDto | null,
    runId: r.runId,
    startedAt: r.startedAt.toISOString(),
    finishedAt: r.finishedAt?.toISOString() ?? null,
    verifiedAt: r.verifiedAt?.toISOString() ?? null,
  };
}

/** One day's view from its data_exports rows (any number, including none). */
export function toDayDto(date: string, rows: readonly ExportRow[], queued = false): ExportDayDto {
  const states = EXPORT_TABLE_NAMES.map((t) => rows.find((r) => r.table === t)?.state ?? 'none');
  const least = rows.length === 0 ? 'none' : PRECEDENCE.find((s) => states.includes(s as never))!;
  const rowsOf = (table: string) => rows.find((r) => r.table === table)?.rows ?? null;
  return {
    date,
    state: queued && least !== 'running' ? 'queued' : least,
    partial: rows.some((r) => r.partial),
    rawEvents: rowsOf('raw_events'),
    rollupRows: rowsOf('rollups_hourly'),
    tables: rows.map(toTableDto),
  };
}

/** Rows of several days grouped by day, newest first. */
export function groupByDay(rows: readonly ExportRow[]): Array<{ date: string; rows: ExportRow[] }> {
  const days = new Map<string, ExportRow[]>();
  for (const r of rows) days.set(r.day, [...(days.get(r.day) ?? []), r]);
  return [...days].map(([date, list]) => ({ date, rows: list })).sort((a, b) => (a.date < b.date ? 1 : -1));
}
