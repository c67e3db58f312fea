import type { ExportColumn } from './export-columns';

/**
 * The UTC day a raw event belongs to: its decision's day, which every event of one decision shares.
 * It is raw_events' partition column `event_day`, so a day's export and verification read one partition.
 */
export const RAW_EVENT_DAY_SQL = 'event_day';

export type ExportTableName = 'raw_events' | 'rollups_hourly';

/** SQL condition (with its parameters) selecting one day's rows of a table. */
export interface DayFilter {
  sql: string;
  params: unknown[];
}

/** One exported table: where its rows come from, in which order, and what its manifest sums. */
export interface ExportTable {
  /** Folder under EXPORT_DIR and data_exports.table_name. */
  name: ExportTableName;
  /** MySQL table. */
  source: string;
  dayFilter(day: string): DayFilter;
  /** Deterministic order of the rows (a unique key): a rerun writes the same rows in the same order. */
  orderBy: string;
  /** Manifest sums: name -> aggregate expression valid in MySQL and in DuckDB alike. */
  measures(columns: readonly ExportColumn[]): Record<string, string>;
}

const EVENT_TYPES = ['impression', 'start', 'firstQuartile', 'midpoint', 'thirdQuartile', 'complete', 'click'];
const countWhere = (condition: string) => `SUM(CASE WHEN ${condition} THEN 1 ELSE 0 END)`;

export const RAW_EVENTS_EXPORT: ExportTable = {
  name: 'raw_events',
  source: 'raw_events',
  dayFilter: (day) => ({ sql: `${RAW_EVENT_DAY_SQL} = ?`, params: [day] }),
  orderBy: 'id',
  measures: () => ({
    valid_events: countWhere("status = 'valid'"),
    invalid_events: countWhere("status = 'invalid'"),
    ...Object.fromEntries(EVENT_TYPES.map((t) => [`${t}_events`, countWhere(`event_type = '${t}'`)])),
    written_off_events: countWhere('written_off = 1'),
    rate_micros: 'SUM(rate_micros)',
    // Sums of the hashes change when any listener, address or agent of a row changes: a cheap content check.
    user_hash: 'SUM(user_hash)',
  }),
};

export const ROLLUPS_HOURLY_EXPORT: ExportTable = {
  name: 'rollups_hourly',
  source: 'event_rollups_hourly',
  dayFilter: (day) => ({ sql: 'hour >= ? AND hour < DATE_ADD(?, INTERVAL 1 DAY)', params: [day, day] }),
  orderBy: 'hour, campaign_id, line_item_id, creative_id, country, platform',
  // Every counter of the rollups (all their whole-number columns): what reports and invoices are made of.
  measures: (columns) => Object.fromEntries(columns.filter((c) => c.integral).map((c) => [c.name, `SUM(${c.name})`])),
};

export const EXPORT_TABLES: readonly ExportTable[] = [RAW_EVENTS_EXPORT, ROLLUPS_HOURLY_EXPORT];
export const EXPORT_TABLE_NAMES: readonly ExportTableName[] = EXPORT_TABLES.map((t) => t.name);
