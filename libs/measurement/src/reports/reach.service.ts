import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Granularity, ReachMethod } from '../dto/report.dto';
import { ReachSketch } from '../reach/reach-sketch';
import { SKETCH_LEVELS } from '../reach/reach-sketch.store';

const DAY_MS = 86_400_000;
/**
 * Largest range (in valid impressions, which bound its `reach_hourly` rows) counted exactly: a
 * COUNT(DISTINCT) over more rows than this takes longer than merging sketches (bench/reach).
 */
export const EXACT_REACH_MAX_IMPRESSIONS = 200_000;
/** Campaigns per statement of the presence check (an advertiser's may be many). */
const CAMPAIGNS_PER_CHECK = 100;

export interface ReachRequest {
  kind: 'advertiser' | 'campaign' | 'lineItem';
  /** The campaigns in scope (an advertiser's with rollups in the range, or the one campaign). */
  campaignIds: string[];
  lineItemId?: string;
  /** Whole UTC hours, `to` exclusive. */
  from: Date;
  to: Date;
  granularity: Granularity;
  /** Breakdown columns (country, platform, creative_id). */
  dims: string[];
  /** The row period as SQL over an `hour` column (null for granularity=total). */
  hourPeriod: string | null;
  /** True when every local day of the report is a UTC day (whole-day sketches can serve it). */
  utcDays: boolean;
}

/** One report row's reach, with its period and breakdown values as the rollup rows have them. */
export interface ReachRow {
  cells: Record<string, string | Date | null>;
  reach: number;
}

/**
 * Reach (distinct listeners) of a report's rows, exact or from sketches:
 * - exact, `COUNT(DISTINCT user_hash)` over `reach_hourly`, when all its rows of the range are still
 *   there and they are few enough to count quickly;
 * - otherwise merged distinct-count sketches (`reach_sketches_*`, kept with the rollups), exact for
 *   small sets and within 0.29% standard error beyond.
 * Retention drops `reach_hourly` a whole UTC day at a time, oldest first, and sketches are written in
 * the same transaction as the reach rows: the exact rows of a range are all there when, for every
 * campaign, its first sketched hour in the range also has reach rows.
 */
@Injectable()
export class ReachService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * `impressions`: the range's valid impressions (from the rollups). The sketches are read meanwhile,
   * in parallel with the counts: a large report then costs the slower of the two, not their sum; for
   * a small one, which is counted exactly, the wasted read is as small as its sketches.
   */
  async reach(request: ReachRequest, impressions: Promise<number>): Promise<{ method: ReachMethod; rows: ReachRow[] }> {
    if (request.campaignIds.length === 0) return { method: 'exact', rows: [] };
    const filter = scopeFilter(request);
    const sketched = this.fromSketches(request, filter);
    sketched.catch(() => undefined);
    if ((await impressions) <= EXACT_REACH_MAX_IMPRESSIONS && (await this.exactRowsPresent(request))) return { method: 'exact', rows: await this.exact(request, filter) };
    return { method: 'sketch', rows: await sketched };
  }

  /** Per campaign, the first hour in the range with a sketch and the first with reach rows: index seeks, stopping at the first row. */
  private async exactRowsPresent(request: ReachRequest): Promise<boolean> {
    const lineItem = request.kind === 'lineItem' ? ' AND line_item_id = ?' : '';
    const first = (table: string) => `(SELECT hour FROM ${table} WHERE campaign_id = ?${lineItem} AND hour >= ? AND hour < ? ORDER BY hour LIMIT 1)`;
    for (let i = 0; i < request.campaignIds.length; i += CAMPAIGNS_PER_CHECK) {
      const campaigns = request.campaignIds.slice(i, i + CAMPAIGNS_PER_CHECK);
      const params = campaigns.flatMap((c) => {
        const one = [c, ...(lineItem ? [request.lineItemId] : []), request.from, request.to];
        return [...one, ...one];
      });
      const rows = (await this.dataSource.query(
        campaigns.map(() => `SELECT ${first(SKETCH_LEVELS.hourly.table)} AS sketched, ${first('reach_hourly')} AS exact`).join(' UNION ALL '),
        params,
      )) as Array<{ sketched: Date | null; exact: Date | null }>;
      if (rows.some((r) => r.sketched !== null && r.sketched.getTime() !== r.exact?.getTime())) return false;
    }
    return true;
  }

  private async exact(request: ReachRequest, filter: Filter): Promise<ReachRow[]> {
    const { select, group } = shape(request.hourPeriod, request.dims);
    const rows = (await this.dataSource.query(
      `SELECT ${[...select, 'COUNT(DISTINCT user_hash) AS reach'].join(', ')} FROM reach_hourly WHERE ${filter.sql} AND hour >= ? AND hour < ? ${group}`,
      [...filter.params, request.from, request.to],
    )) as Array<Record<string, string | Date | null>>;
    return rows.map((cells) => ({ cells, reach: Number(cells.reach) }));
  }

  /** Reads the sketches of the coarsest level that can answer, and merges them per row. */
  private async fromSketches(request: ReachRequest, filter: Filter): Promise<ReachRow[]> {
    const wholeDays = request.granularity !== 'hour' && request.utcDays && request.from.getTime() % DAY_MS === 0 && request.to.getTime() % DAY_MS === 0;
    let table: string;
    let sql = filter.sql;
    let params = filter.params;
    if (!wholeDays) table = SKETCH_LEVELS.hourly.table;
    else if (request.dims.length > 0) table = SKETCH_LEVELS.daily.table;
    else if (request.kind === 'lineItem') table = SKETCH_LEVELS.lineItemDaily.table;
    else {
      table = SKETCH_LEVELS.campaignDaily.table;
      // Per campaign: the scope is the campaigns themselves.
      sql = 'campaign_id IN (?)';
      params = [request.campaignIds];
    }
    const time = wholeDays ? 'day' : 'hour';
    const range = wholeDays ? [day(request.from), day(request.to)] : [request.from, request.to];
    const period = request.granularity === 'total' ? null : wholeDays ? 'day' : request.hourPeriod;
    const { select } = shape(period, request.dims);
    const rows = (await this.dataSource.query(`SELECT ${[...select, 'sketch'].join(', ')} FROM ${table} WHERE ${sql} AND ${time} >= ? AND ${time} < ?`, [
      ...params,
      ...range,
    ])) as Array<Record<string, string | Date | null> & { sketch: Buffer }>;
    const merged = new Map<string, { row: Record<string, string | Date | null>; sketch: ReachSketch }>();
    const keyColumns = [...(period ? ['period'] : []), ...request.dims];
    for (const { sketch, ...row } of rows) {
      const key = keyColumns.map((c) => (row[c] instanceof Date ? (row[c] as Date).toISOString() : String(row[c]))).join('|');
      let entry = merged.get(key);
      if (!entry) merged.set(key, (entry = { row, sketch: new ReachSketch() }));
      entry.sketch.mergeBytes(sketch);
    }
    return [...merged.values()].map(({ row, sketch }) => ({ cells: row, reach: sketch.count() }));
  }
}

interface Filter {
  sql: string;
  params: unknown[];
}

/** Every reach table is keyed campaign first: a scope is a campaign list, or one campaign's line item. */
function scopeFilter(request: ReachRequest): Filter {
  if (request.kind === 'lineItem') return { sql: 'campaign_id = ? AND line_item_id = ?', params: [request.campaignIds[0], request.lineItemId] };
  return { sql: 'campaign_id IN (?)', params: [request.campaignIds] };
}

function shape(period: string | null, dims: string[]): { select: string[]; group: string } {
  const select = [...(period ? [`${period} AS period`] : []), ...dims];
  const groupBy = [...(period ? ['period'] : []), ...dims];
  return { select, group: groupBy.length ? `GROUP BY ${groupBy.join(', ')}` : '' };
}

function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}
