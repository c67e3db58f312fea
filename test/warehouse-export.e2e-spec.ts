import { DuckDBInstance } from '@duckdb/node-api';
import { Queue } from 'bullmq';
import { DAY_MS, DayManifest, addDays, dayOf, exportLockName } from '@app/warehouse';
import { Connection } from 'mysql2/promise';
import { createHash, randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http } from './support/http';
import { mysql } from './support/measurement-fixtures';
import { ROOT, waitFor } from './support/processes';
import { Stack } from './support/stack';

/**
 * The warehouse export on its own stack (a private EXPORT_DIR, parts of 1,000 rows): a day exported
 * through POST /v1/ops/exports and read back with DuckDB equal to MySQL row for row; a rerun giving
 * the same files; a worker SIGKILLed mid-export leaving nothing half-visible and the retry finishing;
 * verification catching a changed row count (and the SLA saying so); the API's refusals.
 */
describe('warehouse export (own stack)', () => {
  let stack: Stack;
  let db: Connection;
  let exportDir: string;
  const api = <T = any>(method: string, path: string, options: { key?: string | null; body?: unknown; headers?: Record<string, string> } = {}) => http<T>(method, path, { ...options, baseUrl: stack.baseUrl });
  const today = dayOf(Date.now());
  const D1 = addDays(today, -10);
  const D2 = addDays(today, -20);
  const D3 = addDays(today, -30);
  const advertiserId = randomUUID();
  const campaignId = randomUUID();

  /** `count` raw events whose day is `day` (ids in order), with NULLs, quotes, tabs, newlines and non-ASCII in user ids. */
  async function seedRawEvents(day: string, count: number): Promise<void> {
    await db.query('CREATE TEMPORARY TABLE IF NOT EXISTS digits (d INT NOT NULL PRIMARY KEY)');
    await db.query('INSERT IGNORE INTO digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)');
    const n = 'a.d + b.d * 10 + c.d * 100 + e.d * 1000 + f.d * 10000 + g.d * 100000';
    await db.query(
      `INSERT INTO raw_events (decision_id, event_type, status, invalid_reason, occurred_at, received_at, advertiser_id, campaign_id, line_item_id, creative_id,
         user_id, user_hash, country, platform, pricing_model, rate_micros, ip_hash, ua_hash, ingest_tag)
       SELECT UUID(), ELT(n MOD 7 + 1, 'impression','start','firstQuartile','midpoint','thirdQuartile','complete','click'),
         IF(n MOD 13 = 0, 'invalid', 'valid'), IF(n MOD 13 = 0, 'bot', NULL),
         TIMESTAMPADD(MICROSECOND, (n * 86399999 DIV ?) * 1000, ?), TIMESTAMPADD(SECOND, 5, TIMESTAMPADD(MICROSECOND, (n * 86399999 DIV ?) * 1000, ?)),
         ?, ?, ELT(n MOD 3 + 1, ?, ?, ?), ?,
         ELT(n MOD 4 + 1, CONCAT('listener-', n), CONCAT('q"uo\\ttab\\nline-', n), CONCAT('ünï-', n), ''),
         (n * 2654435761) MOD 18446744073709551557, ELT(n MOD 3 + 1, 'US', 'DE', 'BR'), ELT(n MOD 2 + 1, 'ios', 'web'),
         ELT(n MOD 3 + 1, 'CPM', 'CPC', 'CPCL'), 1000 + n MOD 5000, IF(n MOD 5 = 0, NULL, n * 31), IF(n MOD 7 = 0, NULL, n * 17), 1
       FROM (SELECT ${n} AS n FROM digits a, digits b, digits c, digits e, digits f, digits g WHERE ${n} < ?) seq ORDER BY n`,
      [count, day, count, day, advertiserId, campaignId, randomUUID(), randomUUID(), randomUUID(), randomUUID(), count],
    );
  }

  async function seedRollups(day: string, hours: number): Promise<void> {
    for (let h = 0; h < hours; h++) {
      await db.query(
        `INSERT INTO event_rollups_hourly (campaign_id, hour, line_item_id, creative_id, country, platform, advertiser_id, impressions, completes, clicks, spend_mmicros)
         VALUES (?, TIMESTAMPADD(HOUR, ?, ?), ?, ?, 'US', 'ios', ?, ?, ?, ?, ?)`,
        [campaignId, h, day, randomUUID(), randomUUID(), advertiserId, 100 + h, 50 + h, h, 250_000_000 * (h + 1)],
      );
    }
  }

  /** Aggregation (which rolls the seeded events up and may mark some written off) has caught up: the rows stop changing. */
  const aggregated = () =>
    waitFor(
      async () => {
        const [[row]] = (await db.query("SELECT (SELECT last_id FROM aggregation_watermarks WHERE name = 'rollups') >= (SELECT COALESCE(MAX(id), 0) FROM raw_events) AS done")) as any;
        return Number(row.done) === 1;
      },
      60_000,
      'aggregation to catch up',
      200,
    );

  const dayView = async (day: string) => {
    const res = await api('GET', `/v1/ops/exports?from=${day}&to=${day}`);
    expect(res.status).toBe(200);
    return res.body.data.find((d: any) => d.date === day) as any;
  };
  const waitVerified = (day: string, notRun?: string, timeoutMs = 60_000) =>
    waitFor(
      async () => {
        const view = await dayView(day);
        const raw = view?.tables.find((t: any) => t.table === 'raw_events');
        return view?.state === 'verified' && raw.runId !== notRun ? view : null;
      },
      timeoutMs,
      `${day} to be exported and verified`,
      200,
    );
  const manifestOf = (table: string, day: string) => JSON.parse(readFileSync(join(exportDir, table, `date=${day}`, '_manifest.json'), 'utf8')) as DayManifest;
  const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

  /** Runs `npm run export` against the stack's database; resolves with its exit code and output. */
  const cli = (args: string[]) =>
    new Promise<{ code: number; output: string }>((resolve) => {
      const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'scripts/export.ts', ...args], { cwd: ROOT, env: { ...process.env, ...stack.env, LOG_LEVEL: 'warn' } });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      child.on('exit', (code) => resolve({ code: code ?? -1, output }));
    });

  beforeAll(async () => {
    const runId = `${process.env.E2E_RUN_ID}whx`;
    exportDir = mkdtempSync(join(tmpdir(), 'adp-export-'));
    stack = await Stack.start({ dbName: `adp_test_${runId}`, queuePrefix: `test-${runId}`, env: { EXPORT_DIR: exportDir, EXPORT_PART_ROWS: '1000', SLA_EVALUATE_EVERY_MS: '1000' } });
    db = await mysql(stack.env.DB_NAME);
    await seedRawEvents(addDays(D1, -1), 40);
    await seedRawEvents(D1, 3500);
    await seedRawEvents(addDays(D1, 1), 40);
    await seedRollups(D1, 24);
    await seedRollups(addDays(D1, 1), 2);
    await aggregated();
  }, 120_000);

  afterAll(async () => {
    await db?.end();
    await stack?.stop();
    await stack?.dropData().catch(() => undefined);
    if (exportDir) rmSync(exportDir, { recursive: true, force: true });
  }, 60_000);

  it('exports a closed day to Parquet that reads back equal to MySQL, row for row, with a manifest of its rows, sums and files', async () => {
    const requested = await api('POST', '/v1/ops/exports', { body: { date: D1 } });
    expect(requested.status).toBe(202);
    expect(requested.body).toMatchObject({ date: D1, jobId: `export-day-${D1}`, willBePartial: false });
    // A worker may have taken the job already.
    expect(['queued', 'running']).toContain(requested.body.state);
    const view = await waitVerified(D1);
    const [[rollupCount]] = (await db.query('SELECT COUNT(*) AS n FROM event_rollups_hourly WHERE hour >= ? AND hour < ? + INTERVAL 1 DAY', [D1, D1])) as any;
    expect(view).toMatchObject({ partial: false, rawEvents: 3500, rollupRows: Number(rollupCount.n) });

    const manifest = manifestOf('raw_events', D1);
    expect(manifest).toMatchObject({ date: D1, table: 'raw_events', partial: false, rows: 3500 });
    expect(manifest.files.map((f) => f.name)).toEqual(['part-0000.parquet', 'part-0001.parquet', 'part-0002.parquet', 'part-0003.parquet']);
    expect(manifest.files.map((f) => f.rows)).toEqual([1000, 1000, 1000, 500]);
    for (const f of manifest.files) expect(sha256(join(exportDir, 'raw_events', `date=${D1}`, f.name))).toBe(f.sha256);
    const [[sums]] = (await db.query(
      "SELECT CAST(SUM(status = 'valid') AS CHAR) AS valid, CAST(SUM(event_type = 'click') AS CHAR) AS clicks, CAST(SUM(rate_micros) AS CHAR) AS rate, CAST(SUM(user_hash) AS CHAR) AS hashes FROM raw_events WHERE event_day = ?",
      [D1],
    )) as any;
    expect(manifest.sums).toMatchObject({ valid_events: sums.valid, click_events: sums.clicks, rate_micros: sums.rate, user_hash: sums.hashes });
    // Nothing half-done is left beside the day.
    expect(readdirSync(join(exportDir, 'raw_events')).filter((n) => n.startsWith('.'))).toEqual([]);

    // Read back with DuckDB over the Hive layout, as the warehouse would, and compare every value.
    const duck = await (await DuckDBInstance.create(':memory:')).connect();
    const columns = manifest.columns;
    const asText = (c: { name: string; type: string }, engine: 'duck' | 'mysql') =>
      c.type.startsWith('TIMESTAMP') ? (engine === 'duck' ? `strftime(${c.name}, '%Y-%m-%d %H:%M:%S.%f')` : `DATE_FORMAT(${c.name}, '%Y-%m-%d %H:%i:%s.%f')`) : `CAST(${c.name} AS ${engine === 'duck' ? 'VARCHAR' : 'CHAR'})`;
    const read = await duck.runAndReadAll(
      `SELECT ${columns.map((c) => asText(c, 'duck')).join(', ')}, CAST(date AS VARCHAR) FROM read_parquet('${exportDir}/raw_events/date=*/*.parquet', hive_partitioning = true) ORDER BY id`,
    );
    const parquetRows = read.getRows().map((r) => r.map((v) => (v === null ? null : String(v))));
    const [mysqlRows] = (await db.query({ sql: `SELECT ${columns.map((c) => asText(c, 'mysql')).join(', ')}, ? FROM raw_events WHERE event_day = ? ORDER BY id`, values: [D1, D1], rowsAsArray: true })) as any;
    expect(parquetRows.length).toBe(3500);
    expect(parquetRows).toEqual(mysqlRows.map((r: unknown[]) => r.map((v) => (v === null ? null : String(v)))));
    expect(parquetRows.some((r) => r[columns.findIndex((c) => c.name === 'user_id')]!.includes('\t'))).toBe(true);

    const rollups = await duck.runAndReadAll(`SELECT COUNT(*)::INT, SUM(spend_mmicros)::VARCHAR, MIN(hour)::VARCHAR FROM read_parquet('${exportDir}/rollups_hourly/date=*/*.parquet', hive_partitioning = true)`);
    const [[rollupRows]] = (await db.query('SELECT CAST(SUM(spend_mmicros) AS CHAR) AS spend FROM event_rollups_hourly WHERE hour >= ? AND hour < ? + INTERVAL 1 DAY', [D1, D1])) as any;
    expect(rollups.getRows()[0]).toEqual([Number(rollupCount.n), rollupRows.spend, `${D1} 00:00:00`]);
  });

  it('exports the same day again into the same rows and the same bytes, replacing the folder', async () => {
    const before = manifestOf('raw_events', D1);
    const res = await api('POST', '/v1/ops/exports', { body: { date: D1 } });
    expect(res.status).toBe(202);
    await waitVerified(D1, before.runId);
    const after = manifestOf('raw_events', D1);
    expect(after.runId).not.toBe(before.runId);
    expect(after.rows).toBe(before.rows);
    expect(after.sums).toEqual(before.sums);
    // DuckDB on one thread writes the same bytes for the same rows.
    expect(after.files).toEqual(before.files);
  });

  it('verification catches a changed row count, records the mismatch and breaches its SLA; a new export puts it right', async () => {
    await db.query('DELETE FROM raw_events WHERE event_day = ? ORDER BY id DESC LIMIT 1', [D1]);
    const verify = await cli(['--date', D1, '--verify-only']);
    expect(verify.output).toContain('mismatch');
    expect(verify.code).toBe(4);
    const raw = (await dayView(D1)).tables.find((t: any) => t.table === 'raw_events');
    expect(raw.state).toBe('mismatch');
    expect(raw.verification).toMatchObject({ ok: false, rows: { manifest: 3500, mysql: 3499 } });
    expect(Object.keys(raw.verification.differences).length).toBeGreaterThan(0);
    const reading = (sla: any, id: string) => sla.slas.find((s: any) => s.id === id);
    const breached = await waitFor(
      async () => {
        const sla = (await api('GET', '/v1/ops/sla')).body;
        return reading(sla, 'export.verification')?.state === 'breached' ? sla : null;
      },
      20_000,
      'the verification SLA to be breached',
      250,
    );
    const [mismatched] = (await db.query("SELECT DATE_FORMAT(day, '%Y-%m-%d') AS day, table_name, verification FROM data_exports WHERE state = 'mismatch'")) as any;
    expect({ value: reading(breached, 'export.verification').value, mismatched }).toEqual({ value: 1, mismatched: [expect.objectContaining({ day: D1, table_name: 'raw_events' })] });
    // The days around D1 hold events and were never exported: long past their deadline.
    expect(reading(breached, 'deadline.export-daily').value).toBeGreaterThan(24);

    const fixed = await cli(['--date', D1]);
    expect(fixed.code).toBe(0);
    expect(await dayView(D1)).toMatchObject({ state: 'verified', rawEvents: 3499 });
    await waitFor(async () => reading((await api('GET', '/v1/ops/sla')).body, 'export.verification')?.value === 0, 20_000, 'the verification SLA to clear', 250);
  }, 90_000);

  it('refuses malformed and future dates, a day already being exported, and advertiser keys', async () => {
    for (const body of [{ date: '2026-13-01' }, { date: '2026-02-30' }, { date: 'yesterday' }, { date: 20261120 }, {}]) {
      const res = await api('POST', '/v1/ops/exports', { body });
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/date/);
    }
    const future = await api('POST', '/v1/ops/exports', { body: { date: dayOf(Date.now() + 2 * DAY_MS) } });
    expect(future.status).toBe(400);
    expect(future.body.message).toMatch(/date.*future/);
    expect((await api('POST', '/v1/ops/exports', { body: { date: D2, extra: 1 } })).status).toBe(400);
    for (const query of ['from=2026-1-1', 'to=tomorrow', 'limit=0', `from=${D1}&to=${D2}`]) {
      const res = await api('GET', `/v1/ops/exports?${query}`);
      expect(res.status).toBe(400);
    }

    // A run holding the day (as `npm run export` does): 409, and nothing queued.
    const holder = await mysql(stack.env.DB_NAME);
    await holder.query('SELECT GET_LOCK(?, 0)', [exportLockName(stack.env.DB_NAME!, D2)]);
    const busy = await api('POST', '/v1/ops/exports', { body: { date: D2 } });
    expect(busy.status).toBe(409);
    expect(busy.body.message).toContain(D2);
    await holder.end();

    // A queued run: the second request is a 409; the same request with its Idempotency-Key replays the first answer.
    expect((await api('POST', '/v1/ops/queues/warehouse/pause')).status).toBe(200);
    try {
      const key = randomUUID();
      const first = await api('POST', '/v1/ops/exports', { body: { date: D2 }, headers: { 'idempotency-key': key } });
      expect(first.status).toBe(202);
      const replay = await api('POST', '/v1/ops/exports', { body: { date: D2 }, headers: { 'idempotency-key': key } });
      expect(replay.status).toBe(202);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.body).toEqual(first.body);
      expect((await api('POST', '/v1/ops/exports', { body: { date: D2 } })).status).toBe(409);
    } finally {
      await api('POST', '/v1/ops/queues/warehouse/resume');
    }
    await waitVerified(D2);

    const advertiser = await api('POST', '/v1/advertisers', { body: { name: `wh-${randomUUID().slice(0, 8)}` } });
    const key = (await api('POST', `/v1/advertisers/${advertiser.body.id}/api-keys`, { body: {} })).body.key as string;
    expect((await api('POST', '/v1/ops/exports', { key, body: { date: D2 } })).status).toBe(403);
    expect((await api('GET', '/v1/ops/exports', { key })).status).toBe(403);
    expect((await api('GET', '/v1/ops/exports', { key: null })).status).toBe(401);

    // The listing: newest first, paged by day (cursor or page number), filtered by range; `items` is a deprecated alias of `data`.
    const page = await api('GET', '/v1/ops/exports?limit=1');
    expect(page.body.data.map((d: any) => d.date)).toEqual([D1]);
    expect(page.body.items).toEqual(page.body.data);
    expect(page.body.next).toBe(D1);
    const older = await api('GET', `/v1/ops/exports?limit=1&cursor=${page.body.next}`);
    expect(older.body.data.map((d: any) => d.date)).toEqual([D2]);
    expect(older.body.data[0]).toMatchObject({ state: 'verified', rawEvents: 0, rollupRows: 0 });
    const byNumber = await api('GET', '/v1/ops/exports?limit=1&page=2');
    expect(byNumber.status).toBe(200);
    expect(byNumber.body).toMatchObject({ data: older.body.data, next: older.body.next });
    expect((await api('GET', '/v1/ops/exports?limit=1&page=1')).body).toMatchObject({ data: page.body.data, next: D1 });
    expect((await api('GET', `/v1/ops/exports?limit=1&page=2&cursor=${D1}`)).body.data.map((d: any) => d.date)).toEqual([D2]);
    expect((await api('GET', `/v1/ops/exports?from=${D1}`)).body.data.map((d: any) => d.date)).toEqual([D1]);
  }, 90_000);

  it('accepts exactly one of concurrent requests for a day, and one export job per day with a dead letter retrying it (409 either way)', async () => {
    const D4 = addDays(today, -40);
    const D5 = addDays(today, -41);
    /** A dead letter of the export of `day`, as the worker records one after the last attempt failed. */
    const deadExport = async (day: string) => {
      const id = randomUUID();
      await db.query(`INSERT INTO dead_letters (id, queue, job_name, job_id, payload, error, attempts, failed_at, state) VALUES (?, 'warehouse', 'warehouse.export-day', ?, ?, 'Error: disk full', 5, NOW(3), 'dead')`, [
        id,
        `export-day-${day}`,
        JSON.stringify({ date: day, trigger: 'request' }),
      ]);
      return id;
    };
    const warehouse = new Queue('warehouse', { connection: { url: stack.env.REDIS_URL } as never, prefix: stack.env.QUEUE_PREFIX });
    const exportJobsOf = async (day: string) => (await warehouse.getJobs(['wait', 'active', 'delayed', 'prioritized'])).filter((j) => j.name === 'warehouse.export-day' && j.data.date === day).map((j) => j.id);
    expect((await api('POST', '/v1/ops/queues/warehouse/pause')).status).toBe(200);
    try {
      const answers = await Promise.all(Array.from({ length: 5 }, () => api('POST', '/v1/ops/exports', { body: { date: D4 } })));
      expect(answers.map((a) => a.status).sort()).toEqual([202, 409, 409, 409, 409]);
      expect(await exportJobsOf(D4)).toEqual([`export-day-${D4}`]);
      // The retry of a dead export of the day while its export waits: 409, and the letter stays dead.
      const letter4 = await deadExport(D4);
      expect((await api('POST', `/v1/ops/dead-letters/${letter4}/retry`)).status).toBe(409);
      expect((await api('GET', `/v1/ops/dead-letters/${letter4}`)).body.state).toBe('dead');
      expect(await exportJobsOf(D4)).toEqual([`export-day-${D4}`]);

      // A request while the retry of a dead export of the day waits: 409, one job for the day.
      const letter5 = await deadExport(D5);
      expect((await api('POST', `/v1/ops/dead-letters/${letter5}/retry`)).status).toBe(202);
      const refused = await api('POST', '/v1/ops/exports', { body: { date: D5 } });
      expect(refused.status).toBe(409);
      expect(refused.body.message).toContain(D5);
      const jobs = await exportJobsOf(D5);
      expect(jobs).toHaveLength(1);
      expect(jobs[0]).toMatch(/^dead-letter-retry-/);
    } finally {
      await api('POST', '/v1/ops/queues/warehouse/resume');
      await warehouse.close();
    }
    await waitVerified(D4);
    await waitVerified(D5);
  }, 90_000);

  it('a worker SIGKILLed mid-export leaves nothing half-visible, and the job is taken over and finishes', async () => {
    await seedRawEvents(D3, 150_000);
    await aggregated();
    expect((await api('POST', '/v1/ops/exports', { body: { date: D3 } })).status).toBe(202);
    const tableDir = join(exportDir, 'raw_events');
    const partsWritten = () => readdirSync(tableDir).filter((n) => n.startsWith(`.tmp-date=${D3}-`)).flatMap((n) => readdirSync(join(tableDir, n)).filter((f) => f.endsWith('.parquet')));
    await waitFor(async () => partsWritten().length >= 5, 60_000, 'the export to be under way', 10);
    const [worker] = stack.workers;
    worker.child.kill('SIGKILL');
    await worker.exited;
    const [[row]] = (await db.query("SELECT state, run_id FROM data_exports WHERE day = ? AND table_name = 'raw_events'", [D3])) as any;
    expect(row.state).toBe('running');
    expect(existsSync(join(tableDir, `date=${D3}`))).toBe(false);

    const next = await stack.startWorker();
    const view = await waitVerified(D3, undefined, 120_000);
    expect(view.rawEvents).toBe(150_000);
    const raw = view.tables.find((t: any) => t.table === 'raw_events');
    expect(raw.runId).not.toBe(row.run_id);
    expect(next.output()).toContain(`taking over run ${row.run_id}`);
    expect(readdirSync(tableDir).filter((n) => n.startsWith('.'))).toEqual([]);
    expect(manifestOf('raw_events', D3).files.reduce((n, f) => n + f.rows, 0)).toBe(150_000);
  }, 180_000);
});
