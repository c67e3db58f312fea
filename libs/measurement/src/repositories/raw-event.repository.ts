import { BILLABLE, EVENT_SPEND_MMICROS } from '@app/delivery-ledger';
import { sqlBigInt } from '@app/platform';
import type { Queryable } from '@app/platform';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { RANGE_BILLABLE_EVENTS, RANGE_SPEND } from '../aggregation/aggregation.sql';
import type { EventType } from '../events/event-types';
import type { StorableEvent } from '../ingest/event-store.service';
import type { RejectedRows } from '../ingest/rejected-rows';
import type { StoredPrerequisites } from '../ingest/sequence-rules';
import { RawSpendSums, SpendRow, toSpendRow } from './rollup.repository';

const RAW_COLUMNS =
  'decision_id, event_type, event_day, status, invalid_reason, occurred_at, received_at, advertiser_id, campaign_id, line_item_id, creative_id, user_id, user_hash, country, platform, pricing_model, rate_micros, ip_hash, ua_hash, ingest_tag';

/** Ids per UPDATE that marks events written off. */
const WRITE_OFF_CHUNK = 1000;

/** A beacon with verified claims, to be stored in the partition of its decision's day (`YYYY-MM-DD`). */
export interface NewRawEvent {
  event: StorableEvent;
  day: string;
}

/** Billable spend of one line item in an id range, milli-micros. */
export interface RangeSpend {
  lineItemId: string;
  campaignId: string;
  spendMilli: bigint;
  events: number;
}

/** One billable event, milli-micros. */
export interface BillableEvent {
  id: number;
  lineItemId: string;
  campaignId: string;
  costMilli: bigint;
}

/** Billable figures of one line item and bucket of time, recomputed from raw events. */
export interface RawSpendRow extends SpendRow {
  /** -1 - k for the k-th interior range; otherwise the quarter-hour since the scan's start. */
  bucket: number;
}

/** Beacons rejected in a range of hours: counts per reason and event, and the newest samples. */
export interface RejectedSummary {
  counts: Array<{ reason: string; event: string; count: number }>;
  samples: Array<{ reason: string; event: string; receivedAt: Date; tokenSha256: string }>;
}

const RAW_SUMS = `SUM(${BILLABLE} AND written_off = 0) AS units, SUM(IF(written_off = 0, ${EVENT_SPEND_MMICROS}, 0)) AS spend,
  SUM(${BILLABLE} AND written_off = 1) AS off_units, SUM(IF(written_off = 1, ${EVENT_SPEND_MMICROS}, 0)) AS off_spend`;

/**
 * The SQL of stored beacons: raw events (`raw_events`, one row per decision and event type) and the
 * rejected ones (`rejected_event_counts`, `rejected_events`). Ingestion's batch runs on a mysql2
 * connection of its own pool (statements joined into as few round trips as possible, no ORM); the
 * aggregation's reads and writes run in the caller's transaction.
 */
@Injectable()
export class RawEventRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Opens an ingest batch's transaction in one round trip: BEGIN, the fence share lock (before any id
   * is taken, so the aggregator's fence waits for this batch: see AggregationService), and the stored
   * impressions and starts of `decisionIds`, read in the partitions of `days` only.
   */
  async openBatch(conn: PoolConnection, days: string[], decisionIds: string[]): Promise<StoredPrerequisites> {
    let sql = 'START TRANSACTION; SELECT id FROM ingest_fence WHERE id = 1 LOCK IN SHARE MODE';
    const params: unknown[] = [];
    if (decisionIds.length > 0) {
      sql += "; SELECT decision_id, event_type, status, occurred_at FROM raw_events WHERE event_day IN (?) AND decision_id IN (?) AND event_type IN ('impression', 'start')";
      params.push(days, decisionIds);
    }
    const [opened] = await conn.query<RowDataPacket[][]>(sql, params);
    const stored: StoredPrerequisites = new Map();
    for (const r of decisionIds.length > 0 ? opened[2] : []) {
      const entry = stored.get(r.decision_id as string) ?? {};
      entry[r.event_type as 'impression' | 'start'] = { valid: r.status === 'valid', occurredAt: (r.occurred_at as Date).getTime() };
      stored.set(r.decision_id as string, entry);
    }
    return stored;
  }

  /**
   * Writes the batch's raw events (a duplicate identity is left as it is), counts and samples of its
   * rejected beacons, and COMMITs, in one round trip. Returns how many raw events were inserted
   * (the pool runs without FOUND_ROWS: a duplicate counts 0).
   */
  async insertAndCommit(conn: PoolConnection, events: NewRawEvent[], tag: number, rejected: RejectedRows | null): Promise<number> {
    const statements: string[] = [];
    const params: unknown[] = [];
    if (events.length > 0) {
      statements.push(`INSERT INTO raw_events (${RAW_COLUMNS}) VALUES ? ON DUPLICATE KEY UPDATE id = id`);
      params.push(events.map((e) => rawRow(e.event, e.day, tag)));
    }
    if (rejected) {
      statements.push('INSERT INTO rejected_event_counts (hour, reason, event_type, events) VALUES ? ON DUPLICATE KEY UPDATE events = events + VALUES(events)');
      params.push(rejected.counts);
      if (rejected.samples.length > 0) {
        // A taken slot keeps its row: the sample stays bounded.
        statements.push('INSERT INTO rejected_events (event_type, reason, received_at, token_sha256, ip_hash, ua_hash, sample_hour, sample_slot) VALUES ? ON DUPLICATE KEY UPDATE id = id');
        params.push(rejected.samples);
      }
    }
    statements.push('COMMIT');
    const [written] = await conn.query<ResultSetHeader[]>(statements.join('; '), params);
    return events.length > 0 ? written[0].affectedRows : 0;
  }

  /** Of these stored events, the identities (`decisionId|event`) whose row carries `tag`: those the tagged batch inserted. */
  async identitiesTagged(conn: PoolConnection, events: NewRawEvent[], tag: number): Promise<Set<string>> {
    const [rows] = await conn.query<RowDataPacket[]>('SELECT decision_id, event_type, ingest_tag FROM raw_events WHERE (decision_id, event_type, event_day) IN (?)', [
      events.map((e) => [e.event.claims!.decisionId, e.event.event, e.day]),
    ]);
    return new Set(rows.filter((r) => Number(r.ingest_tag) === tag).map((r) => `${r.decision_id}|${r.event_type}`));
  }

  /** The highest id of the committed raw events (0 when there is none). */
  async maxId(db: Queryable): Promise<number> {
    const [row] = await db.query<Array<{ max_id: string }>>('SELECT COALESCE(MAX(id), 0) AS max_id FROM raw_events');
    return Number(row.max_id);
  }

  /** Billable spend of the id range (from, upto] per line item. */
  async rangeSpend(db: Queryable, from: number, upto: number): Promise<RangeSpend[]> {
    const rows = await db.query<Array<{ li: string; cp: string; spend: string; events: string }>>(RANGE_SPEND, [from, upto]);
    return rows.map((r) => ({ lineItemId: r.li, campaignId: r.cp, spendMilli: sqlBigInt(r.spend), events: Number(r.events) }));
  }

  /** The billable events of some campaigns in the id range (from, upto], in arrival (id) order. */
  async rangeBillableEvents(db: Queryable, from: number, upto: number, campaignIds: string[]): Promise<BillableEvent[]> {
    const rows = await db.query<Array<{ id: string; li: string; cp: string; cost: string }>>(RANGE_BILLABLE_EVENTS, [from, upto, campaignIds]);
    return rows.map((r) => ({ id: Number(r.id), lineItemId: r.li, campaignId: r.cp, costMilli: sqlBigInt(r.cost) }));
  }

  async markWrittenOff(db: Queryable, ids: number[]): Promise<void> {
    for (let i = 0; i < ids.length; i += WRITE_OFF_CHUNK) await db.query('UPDATE raw_events SET written_off = 1 WHERE id IN (?)', [ids.slice(i, i + WRITE_OFF_CHUNK)]);
  }

  /**
   * Billable figures of the raw events with id <= `uptoId` that occurred in [fromMs, toMs), per
   * advertiser, line item and bucket: the k-th of `interiors` (bucket -1 - k) or else the event's
   * quarter-hour counted from `fromMs`.
   */
  async spendByBucket(db: Queryable, fromMs: number, toMs: number, uptoId: number, interiors: Array<{ from: number; to: number }>): Promise<RawSpendRow[]> {
    const bucket = `CASE ${interiors.map((_, k) => `WHEN occurred_at >= ? AND occurred_at < ? THEN ${-1 - k} `).join('')}ELSE FLOOR(TIMESTAMPDIFF(SECOND, ?, occurred_at) / 900) END`;
    const rows = await db.query<Array<RawSpendSums & { bucket: string | number }>>(
      `SELECT advertiser_id, campaign_id, line_item_id, ${bucket} AS bucket, ${RAW_SUMS}
       FROM raw_events WHERE occurred_at >= ? AND occurred_at < ? AND id <= ?
       GROUP BY advertiser_id, campaign_id, line_item_id, bucket`,
      [...interiors.flatMap((it) => [new Date(it.from), new Date(it.to)]), new Date(fromMs), new Date(fromMs), new Date(toMs), uptoId],
    );
    return rows.map((r) => ({ ...toSpendRow(r), bucket: Number(r.bucket) }));
  }

  /** Rejected beacons of the hours [from, to): counts by reason and event, and the newest 100 samples. */
  async rejected(from: Date, to: Date): Promise<RejectedSummary> {
    const counts = await this.dataSource.query<Array<{ reason: string; event_type: string; n: string }>>(
      'SELECT reason, event_type, SUM(events) AS n FROM rejected_event_counts WHERE hour >= ? AND hour < ? GROUP BY reason, event_type ORDER BY reason, event_type',
      [from, to],
    );
    const samples = await this.dataSource.query<Array<{ reason: string; event_type: string; received_at: Date; token_sha256: string }>>(
      'SELECT reason, event_type, received_at, token_sha256 FROM rejected_events WHERE received_at >= ? AND received_at < ? ORDER BY received_at DESC LIMIT 100',
      [from, to],
    );
    return {
      counts: counts.map((r) => ({ reason: r.reason, event: r.event_type, count: Number(r.n) })),
      samples: samples.map((s) => ({ reason: s.reason, event: s.event_type, receivedAt: new Date(s.received_at), tokenSha256: s.token_sha256 })),
    };
  }
}

function rawRow(e: StorableEvent, day: string, tag: number): unknown[] {
  const c = e.claims!;
  const reason = e.finalReason ?? e.reason ?? null;
  return [
    c.decisionId,
    e.event satisfies EventType,
    day,
    reason ? 'invalid' : 'valid',
    reason,
    new Date(e.occurredAt),
    new Date(e.receivedAt),
    c.advertiserId,
    c.campaignId,
    c.lineItemId,
    c.creativeId,
    c.userId,
    e.userHash,
    c.country,
    c.platform,
    c.pricingModel,
    c.rateMicros,
    e.ipHash,
    e.uaHash,
    tag,
  ];
}
