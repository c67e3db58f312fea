import { sqlBigInt, sqlWhere } from '@app/platform';
import type { Queryable } from '@app/platform';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DAILY_ROLLUP_UPSERT, QUARTER_ROLLUP_UPSERT, ROLLUP_COUNTERS, ROLLUP_UPSERT } from '../aggregation/aggregation.sql';
import { ReportPeriod, periodSql, reportShape, sqlDay } from './report-period.sql';

/** The rollup tables by their grain: hourly and daily per rollup cell, quarter-hourly per line item. */
export type RollupGrain = 'hour' | 'day' | 'quarter';

const TABLES: Record<RollupGrain, string> = { hour: 'event_rollups_hourly', day: 'event_rollups_daily', quarter: 'event_rollups_quarter' };

export type RollupCounter = (typeof ROLLUP_COUNTERS)[number];
type MilliCounter = 'spend_mmicros' | 'written_off_mmicros';

/** Every rollup counter of a report row: event counts, and spend in milli-micros. */
export type RollupSums = Record<Exclude<RollupCounter, MilliCounter>, number> & Record<MilliCounter, bigint>;

/** A report row's period and breakdown values, as the rollups have them. */
export type RollupCells = Record<string, string | Date | null>;

/** What a report counts: an advertiser, a campaign, or a line item of a campaign. */
export interface RollupScope {
  advertiserId?: string;
  campaignId?: string;
  lineItemId?: string;
}

/** An advertiser's range of quarter-hours [fromMs, toMs). */
export interface QuarterRange {
  advertiserId: string;
  fromMs: number;
  toMs: number;
}

/** Billed and written-off units and spend (milli-micros) of one line item. */
export interface SpendRow {
  advertiserId: string;
  campaignId: string;
  lineItemId: string;
  units: number;
  spendMilli: bigint;
  writtenOffUnits: number;
  writtenOffMilli: bigint;
}

export type RawSpendSums = { advertiser_id: string; campaign_id: string; line_item_id: string; units: string | null; spend: string | null; off_units: string | null; off_spend: string | null };

/** A row of billable sums as MySQL returns them, as a SpendRow. */
export function toSpendRow(r: RawSpendSums): SpendRow {
  return {
    advertiserId: r.advertiser_id,
    campaignId: r.campaign_id,
    lineItemId: r.line_item_id,
    units: Number(r.units ?? 0),
    spendMilli: sqlBigInt(r.spend),
    writtenOffUnits: Number(r.off_units ?? 0),
    writtenOffMilli: sqlBigInt(r.off_spend),
  };
}

const SUMS = `SUM(billable_events) AS units, SUM(spend_mmicros) AS spend, SUM(written_off_events) AS off_units, SUM(written_off_mmicros) AS off_spend`;
const COUNTER_SUMS = ROLLUP_COUNTERS.map((c) => `SUM(${c}) AS ${c}`);

/**
 * The SQL of the rollups (`event_rollups_hourly`, `_daily`, `_quarter`: the counters of
 * ROLLUP_COUNTERS per cell and time): adding an id range of raw events in the aggregation's
 * transaction, and the grouped reads of reports, billing and delivery health. Every table is keyed
 * (campaign or advertiser, time, ...): a scope's range is one range scan.
 */
@Injectable()
export class RollupRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Adds the raw-event id range (from, upto] to the hourly, daily and quarter-hour rollups (late events land in their own time). */
  async addRange(db: Queryable, from: number, upto: number): Promise<void> {
    await db.query(ROLLUP_UPSERT, [from, upto]);
    await db.query(DAILY_ROLLUP_UPSERT, [from, upto]);
    await db.query(QUARTER_ROLLUP_UPSERT, [from, upto]);
  }

  /**
   * Every counter summed per period and breakdown over [from, to) of one grain (whole UTC days for
   * 'day'). Groups without rows are left out (a total over no rows is no row).
   */
  async sums(grain: RollupGrain, scope: RollupScope, period: ReportPeriod, dims: string[], from: Date, to: Date): Promise<Array<{ cells: RollupCells; sums: RollupSums }>> {
    const { select, group } = reportShape(periodSql(period, grain), dims);
    const where = this.where(grain, scope, from, to);
    const rows = await this.dataSource.query<RollupCells[]>(`SELECT ${[...select, ...COUNTER_SUMS].join(', ')} FROM ${TABLES[grain]} ${where.sql} ${group}`, where.params);
    return rows
      .filter((r) => r.impressions !== null)
      .map((r) => {
        const cells: RollupCells = {};
        const sums = {} as Record<RollupCounter, number | bigint>;
        for (const [key, value] of Object.entries(r)) {
          if (!(ROLLUP_COUNTERS as readonly string[]).includes(key)) cells[key] = value;
        }
        for (const c of ROLLUP_COUNTERS) sums[c] = c === 'spend_mmicros' || c === 'written_off_mmicros' ? sqlBigInt(r[c]) : Number(r[c] ?? 0);
        return { cells, sums: sums as RollupSums };
      });
  }

  /** The campaigns of an advertiser with rollups over [from, to) of one grain. */
  async campaignsOf(grain: RollupGrain, advertiserId: string, from: Date, to: Date): Promise<string[]> {
    const where = this.where(grain, { advertiserId }, from, to);
    return (await this.dataSource.query<Array<{ campaign_id: string }>>(`SELECT DISTINCT campaign_id FROM ${TABLES[grain]} ${where.sql}`, where.params)).map((r) => r.campaign_id);
  }

  /** Billed and written-off figures per line item of each advertiser over its range, from the quarter-hour rollups: UNION ALL of one range scan per range. */
  async spendByLineItem(db: Queryable, ranges: QuarterRange[]): Promise<SpendRow[]> {
    const rows = await db.query<RawSpendSums[]>(
      ranges
        .map(() => `(SELECT advertiser_id, campaign_id, line_item_id, ${SUMS} FROM event_rollups_quarter WHERE advertiser_id = ? AND quarter >= ? AND quarter < ? GROUP BY campaign_id, line_item_id)`)
        .join(' UNION ALL '),
      ranges.flatMap((r) => [r.advertiserId, new Date(r.fromMs), new Date(r.toMs)]),
    );
    return rows.map(toSpendRow);
  }

  /** The advertisers with a billable or written-off event over their range: per range, one probe that stops at the first such quarter. */
  async advertisersWithUsage(db: Queryable, ranges: QuarterRange[]): Promise<string[]> {
    const rows = await db.query<Array<{ advertiser_id: string }>>(
      ranges
        .map(() => `(SELECT advertiser_id FROM event_rollups_quarter WHERE advertiser_id = ? AND quarter >= ? AND quarter < ? AND (billable_events > 0 OR written_off_events > 0) LIMIT 1)`)
        .join(' UNION ALL '),
      ranges.flatMap((r) => [r.advertiserId, new Date(r.fromMs), new Date(r.toMs)]),
    );
    return rows.map((r) => r.advertiser_id);
  }

  /** Spend (milli-micros) and impressions per line item of some campaigns, from the hourly rollups of hours >= `fromHour`. */
  async recentByLineItem(campaignIds: string[], fromHour: Date): Promise<Map<string, { spendMilli: bigint; impressions: number }>> {
    const rows = await this.dataSource.query<Array<{ line_item_id: string; spend: string; impressions: string }>>(
      `SELECT line_item_id, SUM(spend_mmicros) AS spend, SUM(impressions) AS impressions FROM event_rollups_hourly
        WHERE campaign_id IN (?) AND hour >= ? GROUP BY line_item_id`,
      [campaignIds, fromHour],
    );
    return new Map(rows.map((r) => [r.line_item_id, { spendMilli: sqlBigInt(r.spend), impressions: Number(r.impressions) }]));
  }

  private where(grain: RollupGrain, scope: RollupScope, from: Date, to: Date): { sql: string; params: unknown[] } {
    const [start, end] = grain === 'day' ? [sqlDay(from), sqlDay(to)] : [from, to];
    return sqlWhere([
      scope.advertiserId !== undefined && ['advertiser_id = ?', scope.advertiserId],
      scope.campaignId !== undefined && ['campaign_id = ?', scope.campaignId],
      scope.lineItemId !== undefined && ['line_item_id = ?', scope.lineItemId],
      [`${grain} >= ?`, start],
      [`${grain} < ?`, end],
    ]);
  }
}
