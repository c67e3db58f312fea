import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queryable } from '@app/platform';
import { DataSource } from 'typeorm';
import { REACH_SKETCH_LISTENERS, REACH_UPSERT } from '../aggregation/aggregation.sql';
import { CellListener, SketchLevel } from './reach-sketch.repository';
import { ReportPeriod, periodSql, reportShape, sqlDay } from './report-period.sql';

/** A report row's period and breakdown values, as the reach tables have them. */
export type ReachCells = Record<string, string | Date | null>;

/** Campaigns in scope (every reach table is keyed campaign first), or one campaign's line item. */
export interface ReachScope {
  campaignIds: string[];
  lineItemId?: string;
}

/** One campaign's first hour in a range with a sketch, and with exact reach rows (null: none). */
export interface FirstHours {
  sketched: Date | null;
  exact: Date | null;
}

/**
 * The SQL of reach: the exact listeners per rollup cell and hour (`reach_hourly`), added per id range
 * of raw events in the aggregation's transaction and counted for reports, and the reads of the
 * sketches (`reach_sketches_*`) reports merge. `dims` are breakdown columns.
 */
@Injectable()
export class ReachRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Adds the listeners with a valid impression of the raw-event id range (from, upto] to `reach_hourly`. */
  async addRange(db: Queryable, from: number, upto: number): Promise<void> {
    await db.query(REACH_UPSERT, [from, upto]);
  }

  /** The same range's listeners per rollup cell and hour, for the sketches. */
  async rangeListeners(db: Queryable, from: number, upto: number): Promise<CellListener[]> {
    return db.query<CellListener[]>(REACH_SKETCH_LISTENERS, [from, upto]);
  }

  /** Per campaign of the scope, in order, its first hour in [from, to) with an hourly sketch and with reach rows: index seeks, stopping at the first row. */
  async firstHours(scope: ReachScope, sketchTable: string, from: Date, to: Date): Promise<FirstHours[]> {
    const lineItem = scope.lineItemId !== undefined ? ' AND line_item_id = ?' : '';
    const first = (table: string) => `(SELECT hour FROM ${table} WHERE campaign_id = ?${lineItem} AND hour >= ? AND hour < ? ORDER BY hour LIMIT 1)`;
    const params = scope.campaignIds.flatMap((c) => {
      const one = [c, ...(lineItem ? [scope.lineItemId] : []), from, to];
      return [...one, ...one];
    });
    return this.dataSource.query<FirstHours[]>(scope.campaignIds.map(() => `SELECT ${first(sketchTable)} AS sketched, ${first('reach_hourly')} AS exact`).join(' UNION ALL '), params);
  }

  /** Distinct listeners per period and breakdown over the hours [from, to), counted from `reach_hourly`. */
  async exact(scope: ReachScope, period: ReportPeriod, dims: string[], from: Date, to: Date): Promise<Array<{ cells: ReachCells; reach: number }>> {
    const filter = scopeFilter(scope);
    const { select, group } = reportShape(periodSql(period, 'hour'), dims);
    const rows = await this.dataSource.query<ReachCells[]>(
      `SELECT ${[...select, 'COUNT(DISTINCT user_hash) AS reach'].join(', ')} FROM reach_hourly WHERE ${filter.sql} AND hour >= ? AND hour < ? ${group}`,
      [...filter.params, from, to],
    );
    return rows.map((cells) => ({ cells, reach: Number(cells.reach) }));
  }

  /** The sketches of one level over [from, to) (whole UTC days for the daily levels), each with its row's period and breakdown. */
  async sketches(level: SketchLevel, scope: ReachScope, period: ReportPeriod, dims: string[], from: Date, to: Date): Promise<Array<{ cells: ReachCells; sketch: Buffer }>> {
    const filter = scopeFilter(scope);
    const { select } = reportShape(periodSql(period, level.time), dims);
    const range = level.time === 'day' ? [sqlDay(from), sqlDay(to)] : [from, to];
    const rows = await this.dataSource.query<Array<ReachCells & { sketch: Buffer }>>(
      `SELECT ${[...select, 'sketch'].join(', ')} FROM ${level.table} WHERE ${filter.sql} AND ${level.time} >= ? AND ${level.time} < ?`,
      [...filter.params, ...range],
    );
    return rows.map(({ sketch, ...cells }) => ({ cells, sketch }));
  }
}

function scopeFilter(scope: ReachScope): { sql: string; params: unknown[] } {
  if (scope.lineItemId !== undefined) return { sql: 'campaign_id = ? AND line_item_id = ?', params: [scope.campaignIds[0], scope.lineItemId] };
  return { sql: 'campaign_id IN (?)', params: [scope.campaignIds] };
}
