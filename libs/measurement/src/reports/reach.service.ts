import { Injectable } from '@nestjs/common';
import type { Granularity, ReachMethod } from '../dto/report.dto';
import { ReachSketch } from '../reach/reach-sketch';
import { ReachCells, ReachRepository, ReachScope } from '../repositories/reach.repository';
import { SKETCH_LEVELS, SketchLevel } from '../repositories/reach-sketch.repository';
import type { ReportPeriod } from '../repositories/report-period.sql';

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
  /** How rows are cut in time over hours (null for granularity=total). */
  hourPeriod: ReportPeriod;
  /** True when every local day of the report is a UTC day (whole-day sketches can serve it). */
  utcDays: boolean;
}

/** One report row's reach, with its period and breakdown values as the rollup rows have them. */
export interface ReachRow {
  cells: ReachCells;
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
  constructor(private readonly repository: ReachRepository) {}

  /**
   * `impressions`: the range's valid impressions (from the rollups). The sketches are read meanwhile,
   * in parallel with the counts: a large report then costs the slower of the two, not their sum; for
   * a small one, which is counted exactly, the wasted read is as small as its sketches.
   */
  async reach(request: ReachRequest, impressions: Promise<number>): Promise<{ method: ReachMethod; rows: ReachRow[] }> {
    if (request.campaignIds.length === 0) return { method: 'exact', rows: [] };
    const scope = scopeOf(request);
    const sketched = this.fromSketches(request, scope);
    sketched.catch(() => undefined);
    if ((await impressions) <= EXACT_REACH_MAX_IMPRESSIONS && (await this.exactRowsPresent(request))) {
      return { method: 'exact', rows: await this.repository.exact(scope, request.hourPeriod, request.dims, request.from, request.to) };
    }
    return { method: 'sketch', rows: await sketched };
  }

  /** True when, for every campaign, its first sketched hour in the range also has reach rows. */
  private async exactRowsPresent(request: ReachRequest): Promise<boolean> {
    for (let i = 0; i < request.campaignIds.length; i += CAMPAIGNS_PER_CHECK) {
      const campaignIds = request.campaignIds.slice(i, i + CAMPAIGNS_PER_CHECK);
      const rows = await this.repository.firstHours({ ...scopeOf(request), campaignIds }, SKETCH_LEVELS.hourly.table, request.from, request.to);
      if (rows.some((r) => r.sketched !== null && r.sketched.getTime() !== r.exact?.getTime())) return false;
    }
    return true;
  }

  /** Reads the sketches of the coarsest level that can answer, and merges them per row. */
  private async fromSketches(request: ReachRequest, scope: ReachScope): Promise<ReachRow[]> {
    const wholeDays = request.granularity !== 'hour' && request.utcDays && request.from.getTime() % DAY_MS === 0 && request.to.getTime() % DAY_MS === 0;
    let level: SketchLevel;
    if (!wholeDays) level = SKETCH_LEVELS.hourly;
    else if (request.dims.length > 0) level = SKETCH_LEVELS.daily;
    else if (request.kind === 'lineItem') level = SKETCH_LEVELS.lineItemDaily;
    // Per campaign: the scope is the campaigns themselves.
    else level = SKETCH_LEVELS.campaignDaily;
    const period: ReportPeriod = request.granularity === 'total' ? null : wholeDays ? 'time' : request.hourPeriod;
    const rows = await this.repository.sketches(level, scope, period, request.dims, request.from, request.to);
    const merged = new Map<string, { row: ReachCells; sketch: ReachSketch }>();
    const keyColumns = [...(period ? ['period'] : []), ...request.dims];
    for (const { cells, sketch } of rows) {
      const key = keyColumns.map((c) => (cells[c] instanceof Date ? (cells[c] as Date).toISOString() : String(cells[c]))).join('|');
      let entry = merged.get(key);
      if (!entry) merged.set(key, (entry = { row: cells, sketch: new ReachSketch() }));
      entry.sketch.mergeBytes(sketch);
    }
    return [...merged.values()].map(({ row, sketch }) => ({ cells: row, reach: sketch.count() }));
  }
}

/** A line item's report reads its campaign's rows of that line item; other scopes, their campaigns'. */
function scopeOf(request: ReachRequest): ReachScope {
  return request.kind === 'lineItem' ? { campaignIds: request.campaignIds, lineItemId: request.lineItemId } : { campaignIds: request.campaignIds };
}
