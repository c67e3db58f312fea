/** A span of time in which a zone's offset from UTC is constant (see offsetSpans). */
export interface OffsetSpan {
  fromMs: number;
  toMs: number;
  offsetMs: number;
}

/**
 * How report rows are cut in time: not at all (null), by the table's own time column (its hour,
 * quarter-hour or day), or by local days of a zone given as spans of constant offset.
 */
export type ReportPeriod = null | 'time' | { localDays: OffsetSpan[] };

/** The period as SQL over a table's time column (null when rows are not cut in time). */
export function periodSql(period: ReportPeriod, column: string): string | null {
  if (period === null) return null;
  return period === 'time' ? column : localDaySql(column, period.localDays);
}

/** The SELECT list and GROUP BY of a report's rows: the period (as `period`) and the breakdown columns. */
export function reportShape(period: string | null, dims: string[]): { select: string[]; group: string } {
  const select = [...(period ? [`${period} AS period`] : []), ...dims];
  const groupBy = [...(period ? ['period'] : []), ...dims];
  return { select, group: groupBy.length ? `GROUP BY ${groupBy.join(', ')}` : '' };
}

/** A UTC midnight as a DATE literal. */
export function sqlDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** The local day of a UTC DATETIME column: one CASE branch per span of constant offset (DST changes). */
function localDaySql(column: string, spans: OffsetSpan[]): string {
  const shift = (offsetMs: number) => `DATE(DATE_ADD(${column}, INTERVAL ${Math.round(offsetMs / 60_000)} MINUTE))`;
  if (spans.length === 1) return shift(spans[0].offsetMs);
  const branches = spans.slice(0, -1).map((sp) => `WHEN ${column} < '${new Date(sp.toMs).toISOString().slice(0, 19).replace('T', ' ')}' THEN ${shift(sp.offsetMs)}`);
  return `CASE ${branches.join(' ')} ELSE ${shift(spans[spans.length - 1].offsetMs)} END`;
}
