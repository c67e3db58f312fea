import { InvoiceRepository, ReconciliationRepository, ReconciliationService } from '@app/billing';
import { AdvertiserEntity, LineItemEntity } from '@app/campaigns';
import { DAY_MS, DataRetention, PartitionMaintenance, PartitionsRepository, RollupReader, dayNumber, isoDay, partitionName } from '@app/measurement';
import { WorkerConfig, mysqlOptions } from '@app/platform';
import { Logger } from '@nestjs/common';
import { Queue } from 'bullmq';
import { Connection, ResultSetHeader } from 'mysql2/promise';
import { createHash, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../db/migrations';
import { DayPartitions1764900000000 } from '../db/migrations/1764900000000-DayPartitions';
import { e2eConfig } from './support/e2e-config';
import { StoredEvent, codec, comparable, createPlacementVia, decision, expectedRow, mysql, postEvents, report, streamListens, waitForAggregation } from './support/measurement-fixtures';
import { http } from './support/http';
import { waitFor } from './support/processes';
import { Stack, dropDatabase } from './support/stack';

Logger.overrideLogger(['error']);

const TODAY = dayNumber(Date.now());
const at = (day: number, time: string) => new Date(`${isoDay(day)}T${time}Z`);
type Rows<T> = [T[], unknown];

/** A raw event written as the tables stood before day partitions (no event_day column yet). */
async function insertLegacyRaw(db: Connection, decisionId: string, event: string, occurredAt: Date): Promise<number> {
  const [result] = await db.query<ResultSetHeader>(
    `INSERT INTO raw_events (decision_id, event_type, status, occurred_at, received_at, advertiser_id, campaign_id, line_item_id, creative_id,
       user_id, user_hash, country, platform, pricing_model, rate_micros, ingest_tag)
     VALUES (?, ?, 'valid', ?, ?, 'adv', 'cmp', 'li', 'cr', 'listener', 7, 'US', 'ios', 'CPM', 1000000, 1)`,
    [decisionId, event, occurredAt, occurredAt],
  );
  return result.insertId;
}

/** A raw event of a converted table, for a given decision day (as ingestion writes it). */
async function insertRaw(db: Connection, day: number, event = 'impression', decisionId: string = randomUUID()): Promise<ResultSetHeader> {
  const [result] = await db.query<ResultSetHeader>(
    `INSERT INTO raw_events (decision_id, event_type, event_day, status, occurred_at, received_at, advertiser_id, campaign_id, line_item_id, creative_id,
       user_id, user_hash, country, platform, pricing_model, rate_micros, ingest_tag)
     VALUES (?, ?, ?, 'valid', ?, NOW(3), 'adv', 'cmp', 'li', 'cr', 'listener', 7, 'US', 'ios', 'CPM', 1000000, 1)
     ON DUPLICATE KEY UPDATE id = id`,
    [decisionId, event, isoDay(day), at(day, '12:00:00')],
  );
  return result;
}

async function count(db: Connection, sql: string, params: unknown[] = []): Promise<number> {
  const [[row]] = (await db.query(sql, params)) as unknown as Rows<{ n: string }>;
  return Number(row.n);
}

async function partitionNames(db: Connection, table: string): Promise<string[]> {
  const [rows] = (await db.query('SELECT PARTITION_NAME AS name FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY PARTITION_ORDINAL_POSITION', [
    table,
  ])) as unknown as Rows<{ name: string }>;
  return rows.map((r) => r.name);
}

async function verifiedExport(db: Connection, day: number, rows: number, partial = 0): Promise<void> {
  await db.query(
    "INSERT INTO data_exports (day, table_name, state, `partial`, `rows`, started_at, finished_at, verified_at) VALUES (?, 'raw_events', 'verified', ?, ?, NOW(3), NOW(3), NOW(3))",
    [isoDay(day), partial, rows],
  );
}

function daysBetween(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

describe('day partitions and retention (an installation converted with its rows)', () => {
  const dbName = `${process.env.E2E_DB_NAME}_parts`;
  const config = e2eConfig(WorkerConfig, { DB_NAME: dbName, RAW_EVENTS_RETENTION_DAYS: 35, REJECTED_EVENTS_RETENTION_DAYS: 30 });
  let dataSource: DataSource;
  let db: Connection;
  let legacy: { maxId: number; spanning: string; perDay: Map<number, number> };

  beforeAll(async () => {
    const admin = await mysql('mysql');
    await admin.query(`CREATE DATABASE \`${dbName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await admin.end();
    // The installation as it stood before day partitions, with rows of five weeks ago.
    const before = new DataSource({ ...mysqlOptions(config), poolSize: 2, migrations: MIGRATIONS.slice(0, MIGRATIONS.indexOf(DayPartitions1764900000000)) });
    await before.initialize();
    await before.runMigrations({ transaction: 'each' });
    await before.destroy();

    db = await mysql(dbName);
    const spanning = randomUUID();
    // A decision at 23:59 whose click came after midnight: both rows must get the decision's day.
    await insertLegacyRaw(db, spanning, 'impression', at(TODAY - 40, '23:59:59.500'));
    await insertLegacyRaw(db, spanning, 'click', at(TODAY - 39, '00:00:30'));
    const perDay = new Map<number, number>([[TODAY - 40, 2]]);
    let maxId = 0;
    for (const day of [TODAY - 40, TODAY - 39, TODAY - 38, TODAY - 37]) {
      for (let i = 0; i < 3; i++) {
        const id = randomUUID();
        await insertLegacyRaw(db, id, 'impression', at(day, `0${i}:10:00`));
        maxId = await insertLegacyRaw(db, id, 'complete', at(day, `0${i}:10:30`));
      }
      perDay.set(day, (perDay.get(day) ?? 0) + 6);
    }
    await db.query("UPDATE aggregation_watermarks SET last_id = ? WHERE name = 'rollups'", [maxId]);
    for (const day of [TODAY - 40, TODAY - 38]) {
      await db.query("INSERT INTO reach_hourly (campaign_id, hour, line_item_id, creative_id, country, platform, user_hash, impressions) VALUES ('cmp', ?, 'li', 'cr', 'US', 'ios', 7, 3)", [
        at(day, '01:00:00'),
      ]);
    }
    for (const day of [TODAY - 40, TODAY - 1]) {
      // Samples from before sample hours existed (NULL), and their hourly counts.
      await db.query("INSERT INTO rejected_events (event_type, reason, received_at, token_sha256) VALUES ('impression', 'bad_signature', ?, ?)", [
        at(day, '05:30:00'),
        createHash('sha256').update(randomUUID()).digest('hex'),
      ]);
      await db.query("INSERT INTO rejected_event_counts (hour, reason, event_type, events) VALUES (?, 'bad_signature', 'impression', 1)", [at(day, '05:00:00')]);
    }
    legacy = { maxId, spanning, perDay };

    dataSource = new DataSource({ ...mysqlOptions(config), poolSize: 3, migrations: MIGRATIONS });
    await dataSource.initialize();
    await dataSource.runMigrations({ transaction: 'each' });
  }, 120_000);

  afterAll(async () => {
    await db?.end();
    await dataSource?.destroy();
    await dropDatabase(dbName);
  });

  const repository = () => new PartitionsRepository(dataSource);

  it('converts the existing rows into day partitions, keeping every row, its id and the decision days', async () => {
    expect(await count(db, 'SELECT COUNT(*) AS n FROM raw_events')).toBe(26);
    expect(await count(db, 'SELECT MAX(id) AS n FROM raw_events')).toBe(legacy.maxId);
    const [spanning] = (await db.query("SELECT DATE_FORMAT(event_day, '%Y-%m-%d') AS day FROM raw_events WHERE decision_id = ? GROUP BY day", [legacy.spanning])) as unknown as Rows<{ day: string }>;
    expect(spanning.map((r) => r.day)).toEqual([isoDay(TODAY - 40)]);
    for (const [day, rows] of legacy.perDay) {
      expect(await count(db, `SELECT COUNT(*) AS n FROM raw_events PARTITION (${partitionName(day)})`)).toBe(rows);
    }
    const days = ['pold', ...daysBetween(TODAY - 40, TODAY + 7).map(partitionName), 'pmax'];
    expect(await partitionNames(db, 'raw_events')).toEqual(days);
    expect(await partitionNames(db, 'reach_hourly')).toEqual(days);
    expect(await partitionNames(db, 'rejected_events')).toEqual(days);
    expect(await count(db, 'SELECT COUNT(*) AS n FROM reach_hourly')).toBe(2);
    // Old samples got their hour: the partition column is never NULL.
    expect(await count(db, 'SELECT COUNT(*) AS n FROM rejected_events WHERE sample_hour = DATE_FORMAT(received_at, "%Y-%m-%d %H:00:00")')).toBe(2);
    // The auto-increment id, the aggregation watermark, carries on above the converted rows.
    expect((await insertRaw(db, TODAY)).insertId).toBeGreaterThan(legacy.maxId);
  });

  it('still refuses a replayed event: the identity (decision, event type, decision day) is unique across the partitioned table', async () => {
    const decisionId = randomUUID();
    const first = await insertRaw(db, TODAY - 1, 'impression', decisionId);
    const replay = await insertRaw(db, TODAY - 1, 'impression', decisionId);
    await insertRaw(db, TODAY - 1, 'click', decisionId);
    // The replay found the stored row (no new id) and left it alone; the other event type is a row of its own.
    expect(replay.insertId === 0 || replay.insertId === first.insertId).toBe(true);
    const [rows] = (await db.query('SELECT id, event_type FROM raw_events WHERE decision_id = ? ORDER BY id', [decisionId])) as unknown as Rows<{ id: string; event_type: string }>;
    expect(rows.map((r) => r.event_type)).toEqual(['impression', 'click']);
    expect(Number(rows[0].id)).toBe(first.insertId);
  });

  it('adds the coming days ahead, once, and splits rows that arrived before their day had a partition', async () => {
    const maintenance = new PartitionMaintenance(repository());
    // Three days on: three more days for each table; run again, nothing to add.
    const added = await maintenance.ensureAhead(Date.now() + 3 * DAY_MS);
    const expected = daysBetween(TODAY + 8, TODAY + 10).map(isoDay);
    expect(added).toEqual(['raw_events', 'reach_hourly', 'rejected_events'].map((table) => ({ table, days: expected })));
    expect(await maintenance.ensureAhead(Date.now() + 3 * DAY_MS)).toEqual([]);

    // A row of a day beyond the last partition waits in pmax, and is in its own day once the day is added.
    await insertRaw(db, TODAY + 12);
    expect(await count(db, 'SELECT COUNT(*) AS n FROM raw_events PARTITION (pmax)')).toBe(1);
    await maintenance.ensureAhead(Date.now() + 5 * DAY_MS);
    expect(await count(db, `SELECT COUNT(*) AS n FROM raw_events PARTITION (${partitionName(TODAY + 12)})`)).toBe(1);
    expect(await count(db, 'SELECT COUNT(*) AS n FROM raw_events PARTITION (pmax)')).toBe(0);
    expect((await partitionNames(db, 'raw_events')).slice(-2)).toEqual([partitionName(TODAY + 12), 'pmax']);
  });

  it('drops only verified, aggregated days whose rows still match their export; keeps the rest and says why', async () => {
    const retention = new DataRetention(repository(), config);
    // TODAY-40: never exported. TODAY-39: verified, then a late event lands. TODAY-38: verified and unchanged.
    // TODAY-37: verified, but an event above the watermark. TODAY-36: verified while the day was not over.
    await verifiedExport(db, TODAY - 39, legacy.perDay.get(TODAY - 39)!);
    await verifiedExport(db, TODAY - 38, legacy.perDay.get(TODAY - 38)!);
    await verifiedExport(db, TODAY - 37, legacy.perDay.get(TODAY - 37)!);
    await verifiedExport(db, TODAY - 36, 0, 1);
    const late = await insertRaw(db, TODAY - 39, 'impression');
    await db.query("UPDATE aggregation_watermarks SET last_id = ? WHERE name = 'rollups'", [late.insertId]);
    await insertRaw(db, TODAY - 37, 'impression');

    const run = await retention.run();

    expect(run.dropped).toEqual([
      { table: 'raw_events', day: isoDay(TODAY - 38), rows: 6 },
      { table: 'reach_hourly', day: isoDay(TODAY - 38), rows: 1 },
      // Every day past REJECTED_EVENTS_RETENTION_DAYS (30), whether it held samples or not.
      ...daysBetween(TODAY - 40, TODAY - 31).map((day) => ({ table: 'rejected_events', day: isoDay(day), rows: day === TODAY - 40 ? 1 : 0 })),
    ]);
    expect(run.kept).toEqual(
      expect.arrayContaining([
        { table: 'raw_events', day: isoDay(TODAY - 40), reason: 'not_verified' },
        { table: 'raw_events', day: isoDay(TODAY - 39), reason: 'rows_changed' },
        { table: 'raw_events', day: isoDay(TODAY - 37), reason: 'not_aggregated' },
        { table: 'raw_events', day: isoDay(TODAY - 36), reason: 'export_partial' },
        { table: 'reach_hourly', day: isoDay(TODAY - 40), reason: 'raw_events_kept' },
      ]),
    );
    // The dropped day's partition and rows are gone; every other day is intact.
    expect(await partitionNames(db, 'raw_events')).not.toContain(partitionName(TODAY - 38));
    expect(await partitionNames(db, 'reach_hourly')).not.toContain(partitionName(TODAY - 38));
    expect(await count(db, 'SELECT COUNT(*) AS n FROM raw_events WHERE event_day = ?', [isoDay(TODAY - 38)])).toBe(0);
    expect(await count(db, 'SELECT COUNT(*) AS n FROM raw_events WHERE event_day = ?', [isoDay(TODAY - 40)])).toBe(8);
    expect(await count(db, 'SELECT COUNT(*) AS n FROM raw_events WHERE event_day = ?', [isoDay(TODAY - 39)])).toBe(7);
    expect(await count(db, 'SELECT COUNT(*) AS n FROM raw_events WHERE event_day = ?', [isoDay(TODAY - 37)])).toBe(7);
    expect(await count(db, 'SELECT COUNT(*) AS n FROM reach_hourly WHERE hour < ?', [at(TODAY - 39, '00:00:00')])).toBe(1);
    // The day that changed after its verification goes back to the export.
    const [[changed]] = (await db.query("SELECT state, verification FROM data_exports WHERE day = ? AND table_name = 'raw_events'", [isoDay(TODAY - 39)])) as unknown as Rows<{
      state: string;
      verification: { by: string; rows: number; mysqlRows: number };
    }>;
    expect(changed.state).toBe('mismatch');
    expect(changed.verification).toMatchObject({ by: 'retention', rows: 6, mysqlRows: 7 });
    // Rejected beacons: the day past REJECTED_EVENTS_RETENTION_DAYS went, with its hourly counts; yesterday's stay.
    expect(await count(db, 'SELECT COUNT(*) AS n FROM rejected_events')).toBe(1);
    expect(await count(db, 'SELECT COUNT(*) AS n FROM rejected_event_counts')).toBe(1);
    expect(await count(db, "SELECT COUNT(*) AS n FROM partition_drops WHERE table_name = 'raw_events' AND day = ? AND `rows` = 6", [isoDay(TODAY - 38)])).toBe(1);

    // Nothing more to drop on a second run.
    expect((await retention.run()).dropped).toEqual([]);
  });

  it("stops billing's reconciliation from recomputing a month from raw events once its start is past retention", async () => {
    const config35 = e2eConfig(WorkerConfig, { DB_NAME: dbName });
    const billing = await new DataSource({ ...mysqlOptions(config35), entities: [AdvertiserEntity, LineItemEntity], poolSize: 2 }).initialize();
    try {
      const rollups = new RollupReader(billing, config35);
      // The newest dropped raw day is TODAY-38: complete from the day after, plus the token TTL (48 h).
      expect(await rollups.rawEventsCompleteFrom()).toBe((TODAY - 37) * DAY_MS + 172_800_000);
      // The legacy raw events (advertiser 'adv', days TODAY-40..TODAY-37) were never rolled up: recomputed, they would disagree.
      await db.query("INSERT INTO advertisers (id, name, currency, timezone, created_at, updated_at, created_by, updated_by) VALUES ('adv', 'Legacy', 'USD', 'UTC', NOW(3), NOW(3), 'test', 'test')");
      const reconciliation = new ReconciliationService(rollups, new InvoiceRepository(billing), new ReconciliationRepository(billing));
      // Reconcile as if on the 20th of the month of TODAY-37: its month and the one before both start before the raw events kept.
      const month = new Date((TODAY - 37) * DAY_MS);
      const now = Date.UTC(month.getUTCFullYear(), month.getUTCMonth(), 20);
      const result = await reconciliation.reconcile(now);
      expect(result.mismatches).toBe(0);
      const [rows] = (await db.query("SELECT period, raw_units, state FROM invoice_reconciliations WHERE advertiser_id = 'adv'")) as unknown as Rows<{ raw_units: string | null; state: string }>;
      for (const row of rows) expect(row).toMatchObject({ raw_units: null, state: 'ok' });
    } finally {
      await billing.destroy();
    }
  });

  it('never drops an unverified day, whatever the clock says', async () => {
    const retention = new DataRetention(repository(), config);
    const rawBefore = await count(db, 'SELECT COUNT(*) AS n FROM raw_events');
    const run = await retention.run(Date.now() + 1000 * DAY_MS);
    expect(run.dropped.filter((d) => d.table !== 'rejected_events')).toEqual([]);
    expect(await count(db, 'SELECT COUNT(*) AS n FROM raw_events')).toBe(rawBefore);
    expect(run.kept).toEqual(expect.arrayContaining([{ table: 'raw_events', day: isoDay(TODAY - 40), reason: 'not_verified' }]));
  });
});

describe('day partitions on the running stack', () => {
  let db: Connection;

  beforeAll(async () => {
    db = await mysql();
  });

  afterAll(async () => {
    await db.end();
  });

  it("refuses a beacon replayed after midnight for a decision of the day before: both carry the decision's day", async () => {
    // Issued a minute before today's UTC midnight: its token is valid, its day is yesterday.
    const claims = decision({ advertiserId: randomUUID(), campaignId: randomUUID(), lineItemId: randomUUID(), creativeId: randomUUID() }, { issuedAt: TODAY * 86_400 - 60 });
    const token = codec.sign(claims);
    const first = await postEvents([{ event: 'impression', token }]);
    expect(first.body.results).toEqual([{ status: 'accepted' }]);
    const replay = await postEvents([{ event: 'impression', token }, { event: 'impression', token }]);
    expect(replay.body.results.map((r: { status: string }) => r.status)).toEqual(['duplicate', 'duplicate']);
    const [rows] = (await db.query("SELECT DATE_FORMAT(event_day, '%Y-%m-%d') AS day FROM raw_events WHERE decision_id = ?", [claims.decisionId])) as unknown as Rows<{ day: string }>;
    expect(rows).toEqual([{ day: isoDay(TODAY - 1) }]);
  });
});

describe('a report over a pruned range (own stack)', () => {
  it('answers from the rollups once the raw events and per-listener rows of its days are dropped', async () => {
    const runId = `${process.env.E2E_RUN_ID}p`;
    // The schedule of the retired hourly DELETE job, as a deployment upgraded from it still has in Redis.
    const maintenance = new Queue('maintenance', { connection: { url: e2eConfig(WorkerConfig).REDIS_URL } as never, prefix: `test-${runId}` });
    await maintenance.upsertJobScheduler('measurement.prune-rejected', { every: 3_600_000 }, { name: 'measurement.prune-rejected', data: { trigger: 'schedule' } });
    const stack = await Stack.start({ dbName: `adp_test_${runId}`, queuePrefix: `test-${runId}` });
    const db = await mysql(stack.env.DB_NAME);
    const dataSource = await new DataSource({ ...mysqlOptions(e2eConfig(WorkerConfig, { DB_NAME: stack.env.DB_NAME })), poolSize: 2 }).initialize();
    try {
      // The worker keeps the partition and retention jobs scheduled daily, and removed the retired one.
      for (const job of ['measurement.partitions', 'measurement.retention']) {
        const scheduler = await waitFor(() => maintenance.getJobScheduler(job), 15000, `the ${job} scheduler`);
        expect(scheduler.pattern).toMatch(/^\d+ \d+ \* \* \*$/);
        expect(scheduler.tz).toBe('UTC');
      }
      expect(await maintenance.getJobScheduler('measurement.prune-rejected')).toBeFalsy();

      const placement = await createPlacementVia(stack.baseUrl);
      const stored: StoredEvent[] = [];
      await streamListens(placement, 12, stored, { baseUrl: stack.baseUrl, users: 5 });
      await waitForAggregation(db);
      const range = { campaignId: placement.campaignId, from: new Date((TODAY - 1) * DAY_MS).toISOString(), to: new Date((TODAY + 1) * DAY_MS).toISOString() };
      const truth = expectedRow(stored);
      expect(comparable((await report(range, { baseUrl: stack.baseUrl })).body.rows)).toEqual([truth]);

      // Today's day, verified and 37 days on: past retention.
      await verifiedExport(db, TODAY, await count(db, `SELECT COUNT(*) AS n FROM raw_events PARTITION (${partitionName(TODAY)})`));
      const run = await new DataRetention(new PartitionsRepository(dataSource), e2eConfig(WorkerConfig, { DB_NAME: stack.env.DB_NAME })).run(Date.now() + 37 * DAY_MS);
      expect(run.dropped.map((d) => d.table)).toEqual(expect.arrayContaining(['raw_events', 'reach_hourly']));
      expect(await count(db, 'SELECT COUNT(*) AS n FROM raw_events')).toBe(0);
      // What was dropped shows on the API's /metrics (the worker that dropped it has none).
      const metrics = (await http('GET', '/metrics', { baseUrl: stack.baseUrl })).text;
      expect(metrics).toContain('measurement_retention_dropped_partitions{table="raw_events"} 1');
      expect(metrics).toContain(`measurement_retention_dropped_rows{table="raw_events"} ${run.dropped.find((d) => d.table === 'raw_events')!.rows}`);

      // Every count, rate and spend from the rollups, as before the drop. (Reach over a pruned range needs
      // the reach sketches kept with the rollups; the exact per-listener rows are what was dropped.)
      const after = await report(range, { baseUrl: stack.baseUrl });
      expect(after.status).toBe(200);
      const { reach: _reach, frequency: _frequency, ...counters } = truth;
      expect(comparable(after.body.rows)).toEqual([expect.objectContaining(counters)]);
      expect(truth.impressions).toBe(12);
    } finally {
      await maintenance.close();
      await dataSource.destroy();
      await db.end();
      await stack.stop();
      await stack.dropData();
    }
  }, 180_000);
});
