/**
 * bench/billing: the month close (every advertiser's draft invoice, the worker's code) against one bare
 * INSERT ... SELECT ... GROUP BY of the same per-line-item sums over the same quarter-hour rollups; then
 * the reconciliation (invoices = rollups = raw events) against one bare GROUP BY over the raw events of
 * the month; both in the same run, bare and real alternating, and this process's peak RSS.
 *
 *   npm run build && npm run bench:billing -- [--advertisers 1000] [--events 5000000] [--rounds 3] [--keep]
 *
 * Data (set-based SQL, straight into MySQL; every advertiser in UTC, one campaign of 10 CPM line items):
 * - month close: 30 days of hourly rows (rows at :00 quarters) per line item in event_rollups_quarter;
 * - reconciliation: `--events` raw events of full listens (impression .. complete, 2% bots, ~1% written
 *   off past a budget) spread over the advertisers and the same 30 days, rolled up into the quarter
 *   rollups by the aggregation's own SQL, the watermark past them and the month drafted (untimed).
 * The month is last month (UTC); the services run as of 36 hours into this month.
 */
import { AdvertiserEntity, LineItemEntity } from '@app/campaigns';
import { InvoiceRepository, InvoicesService, MonthCloseService, ReconciliationRepository, ReconciliationService } from '@app/billing';
import { RollupReader } from '@app/measurement';
import { WorkerConfig, loadConfig, monthRange, mysqlOptions } from '@app/platform';
import { Logger } from '@nestjs/common';
import { Connection } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { BILLABLE, EVENT_SPEND_MMICROS } from '@app/delivery-ledger';
import { QUARTER_ROLLUP_UPSERT } from '../../libs/measurement/src/aggregation/aggregation.sql';
import { mysql } from '../../test/support/measurement-fixtures';
import { dropDatabase, dropRedisPrefix, migrateDatabase, stackEnv } from '../../test/support/stack';
import { peakRssMb } from '../support/proc-stats';
import { numberArg, runBench } from '../support/bench-run';

const ADVERTISERS = numberArg('advertisers', 1000);
const LINE_ITEMS = 10;
const EVENTS = numberArg('events', 5_000_000);
/** Bare and real runs alternate this many times (the machine is shared: best and median are shown). */
const ROUNDS = numberArg('rounds', 3);
const DAYS = 30;
const RATE_MICROS = 2_500_000;

// Deterministic ids from numbers, so set-based SQL can make them: advertiser a, its campaign, its line item k.
const hex8 = (n: string) => `LPAD(LOWER(HEX(${n})), 8, '0')`;
const advertiserId = (a: string) => `CONCAT(${hex8(a)}, '-0000-4000-8000-000000000000')`;
const campaignId = (a: string) => `CONCAT(${hex8(a)}, '-0000-4000-9000-000000000000')`;
const lineItemId = (a: string, k: string) => `CONCAT(${hex8(a)}, '-', LPAD(LOWER(HEX(${k})), 4, '0'), '-4000-a000-000000000000')`;

type Rows<T> = [T[], unknown];
const best = (xs: number[]) => Math.min(...xs);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const secs = (xs: number[]) => xs.map((x) => (x / 1000).toFixed(2)).join(', ');
const sqlTime = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = process.hrtime.bigint();
  const value = await run();
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, value };
}

async function sequence(db: Connection, table: string, size: number): Promise<void> {
  await db.query('CREATE TABLE IF NOT EXISTS bench_digits (d INT NOT NULL PRIMARY KEY)');
  await db.query('INSERT IGNORE INTO bench_digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)');
  await db.query(`CREATE TABLE ${table} (n INT NOT NULL PRIMARY KEY)
    SELECT a.d + b.d * 10 + c.d * 100 + e.d * 1000 + f.d * 10000 + g.d * 100000 + h.d * 1000000 AS n
    FROM bench_digits a, bench_digits b, bench_digits c, bench_digits e, bench_digits f, bench_digits g, bench_digits h
    WHERE a.d + b.d * 10 + c.d * 100 + e.d * 1000 + f.d * 10000 + g.d * 100000 + h.d * 1000000 < ${size}`);
}

/** Advertisers (UTC), one campaign each, 10 CPM line items each: what billing reads besides the rollups. */
async function seedCatalog(db: Connection, start: string, end: string): Promise<void> {
  const audit = `1, NOW(3), NOW(3), 'bench', 'bench'`;
  await db.query(`INSERT INTO advertisers (id, name, currency, timezone, version, created_at, updated_at, created_by, updated_by)
    SELECT ${advertiserId('n')}, CONCAT('Bench advertiser ', n), 'USD', 'UTC', ${audit} FROM bench_small WHERE n < ${ADVERTISERS}`);
  await db.query(`INSERT INTO campaigns (id, advertiser_id, name, start_at, end_at, budget_micros, status, version, created_at, updated_at, created_by, updated_by)
    SELECT ${campaignId('n')}, ${advertiserId('n')}, CONCAT('Bench campaign ', n), '${start}', '${end}', NULL, 'completed', ${audit} FROM bench_small WHERE n < ${ADVERTISERS}`);
  await db.query(`INSERT INTO line_items (id, campaign_id, advertiser_id, name, format, pricing_model, rate_micros, budget_micros, daily_budget_micros, pacing, priority,
      start_at, end_at, frequency_caps, targeting, status, version, created_at, updated_at, created_by, updated_by)
    SELECT ${lineItemId('a.n', 'k.n')}, ${campaignId('a.n')}, ${advertiserId('a.n')}, CONCAT('Bench line item ', a.n, '/', k.n), 'audio', 'CPM', ${RATE_MICROS},
      1000000000000, NULL, 'even', 5, NULL, NULL, '[]', '{}', 'completed', ${audit}
    FROM bench_small a JOIN bench_small k ON k.n < ${LINE_ITEMS} WHERE a.n < ${ADVERTISERS}`);
}

/** 30 days of hourly rows per line item (at :00 quarters), one day per statement. */
async function seedHourlyRollups(db: Connection, start: string): Promise<void> {
  for (let day = 0; day < DAYS; day++) {
    await db.query(`INSERT INTO event_rollups_quarter (campaign_id, quarter, line_item_id, advertiser_id, impressions, starts, completes, billable_events, spend_mmicros, written_off_events, written_off_mmicros)
      SELECT campaign_id, quarter, id, advertiser_id, imps, imps, imps DIV 2, imps - off, (imps - off) * rate_micros, off, off * rate_micros
      FROM (SELECT li.campaign_id, TIMESTAMPADD(HOUR, h.n, '${start}') AS quarter, li.id, li.advertiser_id, li.rate_micros,
          40 + (CRC32(li.id) + h.n) MOD 60 AS imps, IF((CRC32(li.id) + h.n) MOD 97 = 0, 3, 0) AS off
        FROM line_items li JOIN bench_small h ON h.n >= ${day * 24} AND h.n < ${day * 24 + 24}) v`);
  }
}

/** Full listens: event n is event (n MOD 6) of decision n DIV 6; decisions round-robin over the line items, evenly over the 30 days. */
async function seedRawEvents(db: Connection, start: string): Promise<void> {
  const d = 'FLOOR(n / 6)';
  const a = `(${d} MOD ${ADVERTISERS})`;
  const k = `(FLOOR(${d} / ${ADVERTISERS}) MOD ${LINE_ITEMS})`;
  const at = `TIMESTAMPADD(SECOND, FLOOR(${d} * ${((DAYS * 86_400 - 60) * 6) / EVENTS}) + (n MOD 6) * 5, '${start}')`;
  for (let from = 0; from < EVENTS; from += 1_000_000) {
    await db.query(`INSERT INTO raw_events (decision_id, event_type, status, invalid_reason, occurred_at, received_at, advertiser_id, campaign_id, line_item_id, creative_id,
        user_id, user_hash, country, platform, pricing_model, rate_micros, ingest_tag, written_off)
      SELECT CONCAT(LPAD(HEX(${d}), 8, '0'), '-0000-7000-8000-', LPAD(HEX(${d}), 12, '0')), (n MOD 6) + 1,
        IF(${d} MOD 50 = 0, 'invalid', 'valid'), IF(${d} MOD 50 = 0, 'bot', NULL), ${at}, ${at},
        ${advertiserId(a)}, ${campaignId(a)}, ${lineItemId(a, k)}, '00000000-0000-4000-b000-000000000000',
        CONCAT('u', (${d} * 104729) MOD 60000), (${d} * 104729) MOD 60000,
        ELT((${d} MOD 5) + 1, 'US', 'DE', 'FR', 'GB', 'BR'), ELT((${d} MOD 4) + 1, 'ios', 'android', 'web', 'speaker'), 'CPM', ${RATE_MICROS}, 0, IF(${d} MOD 97 = 1, 1, 0)
      FROM bench_seq WHERE n >= ${from} AND n < ${Math.min(EVENTS, from + 1_000_000)} ORDER BY n`);
  }
}

async function deleteDrafts(db: Connection): Promise<void> {
  await db.query('DELETE FROM invoice_lines');
  await db.query("DELETE FROM invoices WHERE status = 'draft'");
}

function row(label: string, text: string): void {
  process.stdout.write(`${label.padEnd(52)} ${text}\n`);
}

async function main(): Promise<void> {
  Logger.overrideLogger(['warn', 'error']);
  const id = Date.now().toString(36);
  const env = stackEnv({ dbName: `adp_bench_${id}`, queuePrefix: `bench-${id}` }, 65000);
  await migrateDatabase(env);
  const db = await mysql(env.DB_NAME);
  const config = loadConfig(WorkerConfig, { ...env });
  const dataSource = new DataSource({ ...mysqlOptions(config), entities: [AdvertiserEntity, LineItemEntity], poolSize: 4, extra: { connectionLimit: 4 } });
  await dataSource.initialize();
  try {
    // Last month (UTC), and "now" 36 hours into this month: every advertiser's month has ended.
    const today = new Date();
    const thisMonth = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 1);
    const lastMonth = Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - 1, 1);
    const period = new Date(lastMonth).toISOString().slice(0, 7);
    const range = monthRange(period, 'UTC');
    const start = sqlTime(lastMonth);
    const end = sqlTime(thisMonth);
    const now = thisMonth + 36 * 3_600_000;

    const rollups = new RollupReader(dataSource, config);
    const repo = new InvoiceRepository(dataSource);
    const invoices = new InvoicesService(repo, rollups, config);
    const monthClose = new MonthCloseService(invoices, repo, rollups);
    const reconciliation = new ReconciliationService(rollups, repo, new ReconciliationRepository(dataSource));

    process.stdout.write(`month ${period}: ${ADVERTISERS} advertisers x ${LINE_ITEMS} line items, hourly rollups for ${DAYS} days...\n`);
    let t = Date.now();
    await sequence(db, 'bench_small', Math.max(ADVERTISERS, DAYS * 24));
    await seedCatalog(db, start, end);
    await seedHourlyRollups(db, start);
    const [[{ rollupRows }]] = (await db.query('SELECT COUNT(*) AS rollupRows FROM event_rollups_quarter')) as Rows<{ rollupRows: string }>;
    process.stdout.write(`  ${rollupRows} rollup rows in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);

    // 1. Month close against one bare INSERT ... SELECT ... GROUP BY of the same sums.
    await db.query(`CREATE TABLE bench_close_bare (advertiser_id CHAR(36) NOT NULL, campaign_id CHAR(36) NOT NULL, line_item_id CHAR(36) NOT NULL,
      units BIGINT NOT NULL, spend DECIMAL(40,0) NOT NULL, off_units BIGINT NOT NULL, off_spend DECIMAL(40,0) NOT NULL, PRIMARY KEY (advertiser_id, campaign_id, line_item_id))`);
    const closeBareMs: number[] = [];
    const closeMs: number[] = [];
    let closeResult = { drafted: 0, advertisers: 0 };
    for (let round = 1; round <= ROUNDS; round++) {
      process.stdout.write(`close round ${round}/${ROUNDS}: bare INSERT ... SELECT ... GROUP BY, then MonthCloseService.close...\n`);
      await db.query('TRUNCATE bench_close_bare');
      closeBareMs.push(
        (
          await timed(() =>
            db.query(
              `INSERT INTO bench_close_bare SELECT advertiser_id, campaign_id, line_item_id, SUM(billable_events), SUM(spend_mmicros), SUM(written_off_events), SUM(written_off_mmicros)
               FROM event_rollups_quarter WHERE quarter >= ? AND quarter < ? GROUP BY advertiser_id, campaign_id, line_item_id`,
              [start, end],
            ),
          )
        ).ms,
      );
      await deleteDrafts(db);
      const run = await timed(() => monthClose.close(now));
      closeMs.push(run.ms);
      closeResult = run.value;
      process.stdout.write(`  bare ${(closeBareMs[round - 1] / 1000).toFixed(2)} s, close ${(run.ms / 1000).toFixed(2)} s\n`);
      if (closeResult.drafted !== ADVERTISERS) throw new Error(`month close drafted ${closeResult.drafted} invoices, expected ${ADVERTISERS}`);
    }
    // The drafts must bill exactly what the bare statement summed.
    const [[check]] = (await db.query(
      `SELECT (SELECT SUM(billable_units) FROM invoice_lines) AS billed, (SELECT SUM(units) FROM bench_close_bare) AS bare,
         (SELECT SUM(spend_mmicros) FROM invoice_lines) AS billedSpend, (SELECT SUM(spend) FROM bench_close_bare) AS bareSpend, (SELECT COUNT(*) FROM invoice_lines) AS lineCount`,
    )) as Rows<{ billed: string; bare: string; billedSpend: string; bareSpend: string; lineCount: string }>;
    if (check.billed !== check.bare || check.billedSpend !== check.bareSpend) throw new Error(`drafts disagree with the bare sums: ${JSON.stringify(check)}`);
    // Where the close's time goes: the one grouped read of every advertiser's month, then one transaction per advertiser.
    const allRanges = (await dataSource.query('SELECT id FROM advertisers')) as Array<{ id: string }>;
    const ranges = allRanges.map((a) => ({ advertiserId: a.id, fromMs: range.startMs, toMs: range.endMs }));
    const closeRead = await timed(() => rollups.spendByLineItem(ranges));
    await deleteDrafts(db);
    const sampled = Math.min(100, ranges.length);
    const oneDraft = await timed(async () => {
      for (const r of ranges.slice(0, sampled)) await invoices.generateOne(r.advertiserId, period);
    });

    // 2. Reconciliation over raw events against one bare GROUP BY over them.
    process.stdout.write(`reconciliation: ${EVENTS} raw events...\n`);
    await deleteDrafts(db);
    await db.query('TRUNCATE event_rollups_quarter');
    t = Date.now();
    await sequence(db, 'bench_seq', EVENTS);
    await seedRawEvents(db, start);
    await db.query('DROP TABLE bench_seq');
    const [[{ rawRows, maxId }]] = (await db.query('SELECT COUNT(*) AS rawRows, MAX(id) AS maxId FROM raw_events')) as Rows<{ rawRows: string; maxId: string }>;
    process.stdout.write(`  ${rawRows} raw events in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
    t = Date.now();
    await db.query(QUARTER_ROLLUP_UPSERT, [0, maxId]);
    await db.query("UPDATE aggregation_watermarks SET last_id = ? WHERE name = 'rollups'", [maxId]);
    const [[{ quarterRows }]] = (await db.query('SELECT COUNT(*) AS quarterRows FROM event_rollups_quarter')) as Rows<{ quarterRows: string }>;
    const drafted = await monthClose.close(now);
    process.stdout.write(`  ${quarterRows} quarter rollup rows and ${drafted.drafted} drafts in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);

    const reconcileBareMs: number[] = [];
    const reconcileMs: number[] = [];
    let bareGroups = 0;
    let reconcileResult = { checked: 0, mismatches: 0 };
    for (let round = 1; round <= ROUNDS; round++) {
      process.stdout.write(`reconcile round ${round}/${ROUNDS}: bare GROUP BY over the raw events, then ReconciliationService.reconcile...\n`);
      const bare = await timed(() =>
        db.query(
          `SELECT advertiser_id, campaign_id, line_item_id, SUM(${BILLABLE} AND written_off = 0) AS units, SUM(IF(written_off = 0, ${EVENT_SPEND_MMICROS}, 0)) AS spend,
             SUM(${BILLABLE} AND written_off = 1) AS off_units, SUM(IF(written_off = 1, ${EVENT_SPEND_MMICROS}, 0)) AS off_spend
           FROM raw_events WHERE occurred_at >= ? AND occurred_at < ? GROUP BY advertiser_id, campaign_id, line_item_id`,
          [start, end],
        ),
      );
      reconcileBareMs.push(bare.ms);
      bareGroups = (bare.value as unknown as Rows<unknown>)[0].length;
      const run = await timed(() => reconciliation.reconcile(now));
      reconcileMs.push(run.ms);
      reconcileResult = run.value;
      process.stdout.write(`  bare ${(bare.ms / 1000).toFixed(2)} s, reconcile ${(run.ms / 1000).toFixed(2)} s\n`);
      if (reconcileResult.mismatches !== 0 || reconcileResult.checked !== bareGroups) throw new Error(`reconciliation: ${JSON.stringify(reconcileResult)}, expected ${bareGroups} lines and no mismatch`);
    }
    // Where the reconciliation's time goes, for the month with the events (the current month has none).
    const cutoff = await rollups.cutoff();
    const reconRollupRead = await timed(() => rollups.spendByLineItem(ranges));
    const reconRawRead = await timed(() => rollups.recomputeFromRawEvents(ranges, cutoff.eventId));
    const currentRanges = ranges.map((r) => ({ ...r, fromMs: range.endMs, toMs: monthRange(new Date(thisMonth).toISOString().slice(0, 7), 'UTC').endMs }));
    const reconRawReadEmpty = await timed(() => rollups.recomputeFromRawEvents(currentRanges, cutoff.eventId));

    const rss = peakRssMb(process.pid);
    const closeRatio = median(closeMs) / median(closeBareMs);
    const reconcileRatio = median(reconcileMs) / median(reconcileBareMs);
    process.stdout.write(`\nmonth close, ${ADVERTISERS} advertisers x ${LINE_ITEMS} line items, ${rollupRows} hourly rows in event_rollups_quarter\n`);
    row('bare INSERT...SELECT...GROUP BY', `best ${(best(closeBareMs) / 1000).toFixed(2)} s, median ${(median(closeBareMs) / 1000).toFixed(2)} s (${secs(closeBareMs)})`);
    row('MonthCloseService.close', `best ${(best(closeMs) / 1000).toFixed(2)} s, median ${(median(closeMs) / 1000).toFixed(2)} s (${secs(closeMs)}), ${closeResult.drafted} drafts, ${check.lineCount} lines`);
    row('ratio close / bare', `best ${(best(closeMs) / best(closeBareMs)).toFixed(2)}x, median ${closeRatio.toFixed(2)}x (target <= 2x: ${closeRatio <= 2 ? 'met' : 'NOT met'})`);
    row('  of which: grouped read of all months (1 pass)', `${(closeRead.ms / 1000).toFixed(2)} s`);
    row(`  of which: one advertiser's draft (avg of ${sampled})`, `${(oneDraft.ms / sampled).toFixed(1)} ms`);
    process.stdout.write(`reconciliation, ${rawRows} raw events, ${quarterRows} quarter rollup rows, ${bareGroups} line items\n`);
    row('bare SELECT...GROUP BY over raw events', `best ${(best(reconcileBareMs) / 1000).toFixed(2)} s, median ${(median(reconcileBareMs) / 1000).toFixed(2)} s (${secs(reconcileBareMs)})`);
    row('ReconciliationService.reconcile', `best ${(best(reconcileMs) / 1000).toFixed(2)} s, median ${(median(reconcileMs) / 1000).toFixed(2)} s (${secs(reconcileMs)}), ${reconcileResult.checked} lines checked`);
    row('ratio reconcile / bare', `best ${(best(reconcileMs) / best(reconcileBareMs)).toFixed(2)}x, median ${reconcileRatio.toFixed(2)}x (target <= 1.5x: ${reconcileRatio <= 1.5 ? 'met' : 'NOT met'})`);
    row('  of which: rollup read, last month', `${(reconRollupRead.ms / 1000).toFixed(2)} s`);
    row('  of which: raw recomputation, last month', `${(reconRawRead.ms / 1000).toFixed(2)} s`);
    row('  of which: raw recomputation, this month (empty)', `${(reconRawReadEmpty.ms / 1000).toFixed(2)} s`);
    row('peak RSS of this process (VmHWM)', `${rss.toFixed(0)} MB`);
  } finally {
    await dataSource.destroy();
    await db.end();
    if (process.argv.includes('--keep')) process.stdout.write(`kept database ${env.DB_NAME}\n`);
    else {
      await dropDatabase(env.DB_NAME!);
      await dropRedisPrefix(env.REDIS_URL!, env.QUEUE_PREFIX!);
    }
  }
}

runBench(main);
