/** One UTC day, ms. */
export const DAY_MS = 86_400_000;

/** Day partitions kept ready ahead of today, so that a late partition job never stops ingestion. */
export const PARTITION_DAYS_AHEAD = 7;

/** Everything below the first day partition (rows written straight to the table with an older day). */
export const PARTITION_OLD = 'pold';
/** Everything above the last day partition: a catch-all, normally empty, split by the partition job. */
export const PARTITION_MAX = 'pmax';

/**
 * A table kept in UTC day partitions: `RANGE COLUMNS(column)`, one partition `pYYYYMMDD` per day
 * (VALUES LESS THAN the next day), below them `pold`, above them `pmax`.
 */
export interface DayPartitionedTable {
  table: 'raw_events' | 'reach_hourly' | 'rejected_events';
  /** The partition column: a DATE (`raw_events.event_day`, the decision's day) or a DATETIME whose UTC day counts. */
  column: string;
  type: 'date' | 'datetime';
}

export const RAW_EVENTS: DayPartitionedTable = { table: 'raw_events', column: 'event_day', type: 'date' };
export const REACH_HOURLY: DayPartitionedTable = { table: 'reach_hourly', column: 'hour', type: 'datetime' };
export const REJECTED_EVENTS: DayPartitionedTable = { table: 'rejected_events', column: 'sample_hour', type: 'datetime' };

/** Every day-partitioned table, in the order the partition job extends them. */
export const DAY_PARTITIONED_TABLES: readonly DayPartitionedTable[] = [RAW_EVENTS, REACH_HOURLY, REJECTED_EVENTS];

/** Days since 1970-01-01 (UTC) of a time in ms. */
export function dayNumber(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

/** `YYYY-MM-DD` of a day number. */
export function isoDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** The day number of a `YYYY-MM-DD` string, or null when it is not a real calendar day. */
export function parseIsoDay(text: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return null;
  const ms = Date.parse(`${text}T00:00:00Z`);
  return Number.isFinite(ms) && isoDay(ms / DAY_MS) === text ? ms / DAY_MS : null;
}

/** `p20261206` for 2026-12-06. */
export function partitionName(day: number): string {
  return `p${isoDay(day).replaceAll('-', '')}`;
}

/** The day a `pYYYYMMDD` partition holds, or null for `pold`, `pmax` or any other name. */
export function partitionDay(name: string): number | null {
  const m = /^p(\d{4})(\d{2})(\d{2})$/.exec(name);
  return m ? parseIsoDay(`${m[1]}-${m[2]}-${m[3]}`) : null;
}

/** The partition definition of one day: every value below the next day's start (and above the previous partition). */
export function dayPartitionSql(spec: DayPartitionedTable, day: number): string {
  const next = isoDay(day + 1);
  return `PARTITION ${partitionName(day)} VALUES LESS THAN ('${spec.type === 'date' ? next : `${next} 00:00:00`}')`;
}

/** The `PARTITION BY` clause of a table with partitions for days `from`..`to` (inclusive), `pold` below and `pmax` above. */
export function partitionBySql(spec: DayPartitionedTable, from: number, to: number): string {
  const first = isoDay(from);
  const parts = [`PARTITION ${PARTITION_OLD} VALUES LESS THAN ('${spec.type === 'date' ? first : `${first} 00:00:00`}')`];
  for (let day = from; day <= to; day++) parts.push(dayPartitionSql(spec, day));
  parts.push(`PARTITION ${PARTITION_MAX} VALUES LESS THAN (MAXVALUE)`);
  return `PARTITION BY RANGE COLUMNS(${spec.column}) (\n  ${parts.join(',\n  ')}\n)`;
}

/**
 * The day ingestion writes into `raw_events.event_day`: the decision's UTC day (from the token's issue
 * time), so every event of one decision shares it and (decision, event type, day) is the identity a
 * replay collides with. An event arriving more than `retentionDays` - 1 days after its decision (its
 * token long expired, so it is invalid traffic whatever it says) takes the oldest day retention cannot
 * drop yet instead: no row ever lands in a partition that may be gone or about to go.
 */
export function eventDay(issuedAtSeconds: number, receivedAtMs: number, retentionDays: number): number {
  return Math.max(Math.floor(issuedAtSeconds / 86_400), dayNumber(receivedAtMs) - retentionDays + 1);
}

/** The newest day whose partitions are past `retentionDays` at `nowMs`: retention may drop it and every older day. */
export function lastExpiredDay(nowMs: number, retentionDays: number): number {
  return dayNumber(nowMs) - retentionDays - 1;
}
