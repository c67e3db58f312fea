import { EXPORT_TABLE_NAMES } from './export-tables';
import type { ExportRow } from '../repositories/export-state.repository';

/** What a closed day still needs: nothing, its verification, or an export. */
export type DayNeed = 'done' | 'verify' | 'export';

/**
 * A closed day is done when every table's final (not partial) export is verified. One exported but not
 * verified (the verification did not run) needs its verification; anything else (never exported,
 * partial, failed, a mismatch, a dead run) needs an export, which also verifies.
 */
export function needOf(rows: readonly ExportRow[]): DayNeed {
  const byTable = new Map(rows.map((r) => [r.table, r]));
  const all = EXPORT_TABLE_NAMES.map((t) => byTable.get(t));
  if (all.some((r) => !r || r.partial)) return 'export';
  if (all.every((r) => r!.state === 'verified')) return 'done';
  if (all.every((r) => r!.state === 'verified' || r!.state === 'exported')) return 'verify';
  return 'export';
}
