import { PlatformConfig, isQuarterHour } from '@app/platform';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AggregationWatermarkRepository } from '../repositories/aggregation-watermark.repository';
import { PartitionsRepository } from '../repositories/partitions.repository';
import { RawEventRepository } from '../repositories/raw-event.repository';
import { RollupRepository, SpendRow } from '../repositories/rollup.repository';
import { SpendLedgerRepository } from '../repositories/spend-ledger.repository';
import { DAY_MS } from '../retention/day-partitions';

/** Measured billable activity of one line item over a range. */
export interface LineItemSpend {
  advertiserId: string;
  campaignId: string;
  lineItemId: string;
  /** Valid billable events billed (CPM impressions, CPC clicks, CPCL completes), written-off ones excluded. */
  billableEvents: number;
  /** Exact billed spend in milli-micros (1/1000 micro); round once, where the bill is made. */
  spendMilliMicros: bigint;
  /** Billable events delivered past a budget (never billed). */
  writtenOffEvents: number;
  /** Their spend, milli-micros. */
  writtenOffMilliMicros: bigint;
}

/** Billed and recent delivery of one line item (delivery health). */
export interface LineItemDelivery {
  /** Billed so far (spend ledger), milli-micros. */
  billedMilliMicros: bigint;
  /** Delivered past its or its campaign's budget so far, written off (spend ledger), milli-micros. */
  writtenOffMilliMicros: bigint;
  /** Spend rolled up since the requested time (whole hours), milli-micros. */
  recentSpendMilliMicros: bigint;
  recentImpressions: number;
}


/** One advertiser's range [fromMs, toMs): a month of its own zone. Bounds on UTC quarter-hours. */
export interface AdvertiserRange {
  advertiserId: string;
  fromMs: number;
  toMs: number;
}

/** What measurement had counted at one instant: the rollups hold every raw event up to `eventId`. */
export interface MeasurementCutoff {
  eventId: number;
  at: Date;
}

/** Ranges per query: the derived table of bounds stays small. */
const RANGES_PER_QUERY = 500;

/**
 * Read side of the rollups for other libs (billing): measured spend by line item over any range of
 * quarter-hours (so months of any zone, DST and :15/:30/:45 offsets included), a recomputation of the
 * same from raw events, and the watermark. Pass an EntityManager to read inside the caller's
 * transaction (a consistent snapshot ties the figures to one watermark).
 */
@Injectable()
export class RollupReader {
  private readonly rollups: RollupRepository;
  private readonly rawEvents: RawEventRepository;
  private readonly ledger: SpendLedgerRepository;
  private readonly watermarks: AggregationWatermarkRepository;
  private readonly partitions: PartitionsRepository;

  // Repositories bound here rather than injected: other libs' tests and benchmarks build a reader from a DataSource.
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(PlatformConfig) private readonly config: PlatformConfig,
  ) {
    this.rollups = new RollupRepository(dataSource);
    this.rawEvents = new RawEventRepository(dataSource);
    this.ledger = new SpendLedgerRepository(dataSource);
    this.watermarks = new AggregationWatermarkRepository(dataSource);
    this.partitions = new PartitionsRepository(dataSource);
  }

  /**
   * Billed and written-off spend per line item of each advertiser over its own range, from the
   * quarter-hour rollups: each range is one range scan of the clustered key (advertiser, quarter, ...).
   */
  async spendByLineItem(ranges: AdvertiserRange[], manager: EntityManager = this.dataSource.manager): Promise<LineItemSpend[]> {
    checkRanges(ranges);
    const out = new Map<string, LineItemSpend>();
    for (let i = 0; i < ranges.length; i += RANGES_PER_QUERY) {
      for (const row of await this.rollups.spendByLineItem(manager, ranges.slice(i, i + RANGES_PER_QUERY))) addRow(out, row);
    }
    return sorted([...out.values()]);
  }

  /**
   * The advertisers with any billable or written-off event in the rollups over their range (what
   * `spendByLineItem` would show with a non-zero count): per advertiser one probe of the clustered key
   * that stops at the first such quarter.
   */
  async advertisersWithUsage(ranges: AdvertiserRange[], manager: EntityManager = this.dataSource.manager): Promise<Set<string>> {
    checkRanges(ranges);
    const out = new Set<string>();
    for (let i = 0; i < ranges.length; i += RANGES_PER_QUERY) {
      for (const id of await this.rollups.advertisersWithUsage(manager, ranges.slice(i, i + RANGES_PER_QUERY))) out.add(id);
    }
    return out;
  }

  /**
   * For delivery health: per line item, what has been billed so far (spend ledger) and what was
   * delivered since `since` (rollups, from the hour containing it). Read by campaign, the rollups' key.
   */
  async lineItemDelivery(items: ReadonlyArray<{ campaignId: string; lineItemId: string }>, since: Date): Promise<Map<string, LineItemDelivery>> {
    const result = new Map<string, LineItemDelivery>();
    if (items.length === 0) return result;
    for (const item of items) result.set(item.lineItemId, { billedMilliMicros: 0n, writtenOffMilliMicros: 0n, recentSpendMilliMicros: 0n, recentImpressions: 0 });
    const lineItemIds = items.map((i) => i.lineItemId);
    const campaignIds = [...new Set(items.map((i) => i.campaignId))];
    for (const [id, totals] of await this.ledger.lineItemTotals(lineItemIds)) {
      const entry = result.get(id)!;
      entry.billedMilliMicros = totals.billedMilli;
      entry.writtenOffMilliMicros = totals.writtenOffMilli;
    }
    const hour = new Date(Math.floor(since.getTime() / 3_600_000) * 3_600_000);
    for (const [id, recent] of await this.rollups.recentByLineItem(campaignIds, hour)) {
      const entry = result.get(id);
      if (!entry) continue;
      entry.recentSpendMilliMicros = recent.spendMilli;
      entry.recentImpressions = recent.impressions;
    }
    return result;
  }


  /**
   * The same figures recomputed from the raw events rolled up so far (id <= `uptoEventId`), for
   * reconciliation. Raw events are kept 35 days: enough for the current and the previous month.
   */
  async recomputeFromRawEvents(ranges: AdvertiserRange[], uptoEventId: number, manager: EntityManager = this.dataSource.manager): Promise<LineItemSpend[]> {
    return (await this.recomputeMonthsFromRawEvents([ranges], uptoEventId, manager))[0];
  }

  /**
   * `recomputeFromRawEvents` for several sets of ranges (e.g. every advertiser's previous and current
   * month) in one pass over the raw events: grouped in SQL by line item and by a bucket, either the
   * interior a set's ranges all share (so its events count for every range of the set) or, near the
   * edges where zones differ, the event's UTC quarter-hour; each quarter is then assigned here to the
   * ranges that hold it. One answer per set, in order.
   */
  async recomputeMonthsFromRawEvents(sets: AdvertiserRange[][], uptoEventId: number, manager: EntityManager = this.dataSource.manager): Promise<LineItemSpend[][]> {
    const all = sets.flat();
    checkRanges(all);
    const results = sets.map(() => new Map<string, LineItemSpend>());
    if (all.length === 0) return sets.map(() => []);
    const minFrom = Math.min(...all.map((r) => r.fromMs));
    const maxTo = Math.max(...all.map((r) => r.toMs));
    const hulls = sets.map((set) => (set.length ? { from: Math.min(...set.map((r) => r.fromMs)), to: Math.max(...set.map((r) => r.toMs)) } : null));
    // A set's interior counts for all its ranges only if no other set's ranges reach into it.
    const interiors: Array<{ set: number; from: number; to: number }> = [];
    sets.forEach((set, i) => {
      if (set.length === 0) return;
      const from = Math.max(...set.map((r) => r.fromMs));
      const to = Math.min(...set.map((r) => r.toMs));
      if (from < to && hulls.every((h, j) => j === i || !h || h.to <= from || h.from >= to)) interiors.push({ set: i, from, to });
    });
    const rows = await this.rawEvents.spendByBucket(manager, minFrom, maxTo, uptoEventId, interiors);
    // Each advertiser's ranges, per set.
    const byAdvertiser = new Map<string, Array<{ set: number; range: AdvertiserRange }>>();
    sets.forEach((set, i) => {
      for (const range of set) {
        const list = byAdvertiser.get(range.advertiserId) ?? [];
        list.push({ set: i, range });
        byAdvertiser.set(range.advertiserId, list);
      }
    });
    for (const row of rows) {
      const b = row.bucket;
      const interior = b < 0 ? interiors[-1 - b] : undefined;
      const quarterMs = minFrom + b * QUARTER_MS;
      for (const { set, range } of byAdvertiser.get(row.advertiserId) ?? []) {
        if (interior ? interior.set !== set : quarterMs < range.fromMs || quarterMs >= range.toMs) continue;
        addRow(results[set], row);
      }
    }
    return results.map((r) => sorted([...r.values()]));
  }

  /** The last raw event id included in the rollups, and now: a stable "as of" for anything computed from them. */
  async cutoff(manager: EntityManager = this.dataSource.manager): Promise<MeasurementCutoff> {
    const { lastId, now } = await this.watermarks.cutoff(manager);
    return { eventId: lastId, at: now ?? new Date() };
  }

  /**
   * From when the raw events are complete (epoch ms): every valid event that occurred at or after it is
   * still in raw_events, so a recomputation from them over a range starting there is whole. 0 while
   * retention has dropped nothing. A valid event's decision is at most TRACKING_TOKEN_TTL older than the
   * event, and retention drops decision days oldest first, so: the day after the newest dropped day, plus
   * the TTL, rounded up to a quarter-hour. Inside a transaction, it holds off retention's next drop until
   * the transaction ends (the table's metadata lock, then a locking read of partition_drops).
   */
  async rawEventsCompleteFrom(manager: EntityManager = this.dataSource.manager): Promise<number> {
    const day = await this.partitions.newestRawEventsDropHeld(manager);
    if (day === null) return 0;
    const from = Date.parse(`${day}T00:00:00Z`) + DAY_MS + this.config.TRACKING_TOKEN_TTL * 1000;
    return Math.ceil(from / QUARTER_MS) * QUARTER_MS;
  }

  /** The last raw event id included in the rollups. */
  async watermark(manager: EntityManager = this.dataSource.manager): Promise<number> {
    return (await this.cutoff(manager)).eventId;
  }
}

const QUARTER_MS = 900_000;

function checkRanges(ranges: AdvertiserRange[]): void {
  for (const r of ranges) {
    if (!isQuarterHour(r.fromMs) || !isQuarterHour(r.toMs) || r.toMs <= r.fromMs) throw new RangeError(`range of ${r.advertiserId} must be whole quarter-hours`);
  }
}

/** Adds one grouped row to its line item's figures (an advertiser's ranges may come in several rows). */
function addRow(out: Map<string, LineItemSpend>, row: SpendRow): void {
  const key = `${row.advertiserId}|${row.campaignId}|${row.lineItemId}`;
  let s = out.get(key);
  if (!s) {
    s = { advertiserId: row.advertiserId, campaignId: row.campaignId, lineItemId: row.lineItemId, billableEvents: 0, spendMilliMicros: 0n, writtenOffEvents: 0, writtenOffMilliMicros: 0n };
    out.set(key, s);
  }
  s.billableEvents += row.units;
  s.spendMilliMicros += row.spendMilli;
  s.writtenOffEvents += row.writtenOffUnits;
  s.writtenOffMilliMicros += row.writtenOffMilli;
}

function sorted(rows: LineItemSpend[]): LineItemSpend[] {
  return rows.sort((a, b) => compare(a.advertiserId, b.advertiserId) || compare(a.campaignId, b.campaignId) || compare(a.lineItemId, b.lineItemId));
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
