import { DataSource } from 'typeorm';
import { MigratedDatabase } from '../../../../test/support/migrated-database';
import { mysqlOptions } from '../database/data-source-options';
import { IDEMPOTENCY_STALE_MS, IdempotencyStore } from './idempotency.store';

/** The Idempotency-Key store on a real MariaDB database of its own (migrated as `npm start` does). */
describe('IdempotencyStore (real MySQL)', () => {
  const database = new MigratedDatabase(`adp_unit_idem_${process.pid}`);
  const { config } = database;
  const server = () => database.server();
  let dataSource: DataSource;
  let store: IdempotencyStore;
  let wide: DataSource;
  let n = 0;
  const key = () => `key-${++n}`;

  beforeAll(async () => {
    dataSource = await database.open();
    store = new IdempotencyStore(dataSource, config);
    // Enough connections for concurrent claims to interleave on the server.
    wide = new DataSource({ ...mysqlOptions(config), poolSize: 10, extra: { connectionLimit: 10 } });
    await wide.initialize();
  }, 60_000);

  afterAll(async () => {
    await wide?.destroy();
    await database.drop();
  });

  const age = (k: string, column: 'started_at' | 'expires_at', ms: number) =>
    dataSource.query(`UPDATE idempotency_keys SET ${column} = NOW(3) - INTERVAL ? SECOND WHERE idempotency_key = ?`, [ms / 1000, k]);

  it('runs a new key, answers 409-running while it runs, then replays its stored answer', async () => {
    const k = key();
    expect(await store.claim('caller-a', k, 'h1')).toEqual({ kind: 'new' });
    expect(await store.claim('caller-a', k, 'h1')).toEqual({ kind: 'running' });
    await store.complete('caller-a', k, 201, { id: 'x', n: 1 });
    expect(await store.claim('caller-a', k, 'h1')).toEqual({ kind: 'replay', statusCode: 201, body: { id: 'x', n: 1 } });
    // A stored answer without a body replays as none.
    const empty = key();
    await store.claim('caller-a', empty, 'h1');
    await store.complete('caller-a', empty, 204, undefined);
    expect(await store.claim('caller-a', empty, 'h1')).toEqual({ kind: 'replay', statusCode: 204, body: undefined });
  });

  it('refuses the same key with another request (mismatch), running or done, and scopes keys per caller', async () => {
    const k = key();
    await store.claim('caller-a', k, 'h1');
    expect(await store.claim('caller-a', k, 'h2')).toEqual({ kind: 'mismatch' });
    await store.complete('caller-a', k, 200, {});
    expect(await store.claim('caller-a', k, 'h2')).toEqual({ kind: 'mismatch' });
    expect(await store.claim('caller-b', k, 'h2')).toEqual({ kind: 'new' });
  });

  it('forgets a failed request (released), so the key can be used again with any body; a done answer is not released', async () => {
    const k = key();
    await store.claim('caller-a', k, 'h1');
    await store.release('caller-a', k);
    expect(await store.claim('caller-a', k, 'h2')).toEqual({ kind: 'new' });
    await store.complete('caller-a', k, 201, { ok: true });
    await store.release('caller-a', k);
    expect(await store.claim('caller-a', k, 'h2')).toMatchObject({ kind: 'replay' });
  });

  it('lets a request that ran past the stale limit (its process died) be taken over, but not a younger one', async () => {
    const k = key();
    await store.claim('caller-a', k, 'h1');
    await age(k, 'started_at', IDEMPOTENCY_STALE_MS - 60_000);
    expect(await store.claim('caller-a', k, 'h1')).toEqual({ kind: 'running' });
    await age(k, 'started_at', IDEMPOTENCY_STALE_MS + 1000);
    expect(await store.claim('caller-a', k, 'h2')).toEqual({ kind: 'new' });
    expect(await store.claim('caller-a', k, 'h2')).toEqual({ kind: 'running' });
  });

  it('treats an expired answer as gone: taken over by the next request, and pruned (only expired ones)', async () => {
    const expired = key();
    await store.claim('caller-a', expired, 'h1');
    await store.complete('caller-a', expired, 201, { first: true });
    await age(expired, 'expires_at', 1000);
    expect(await store.claim('caller-a', expired, 'h2')).toEqual({ kind: 'new' });
    await store.complete('caller-a', expired, 201, { second: true });
    expect(await store.claim('caller-a', expired, 'h2')).toEqual({ kind: 'replay', statusCode: 201, body: { second: true } });

    const old = key();
    const fresh = key();
    for (const k of [old, fresh]) {
      await store.claim('caller-p', k, 'h');
      await store.complete('caller-p', k, 200, {});
    }
    await age(old, 'expires_at', 1000);
    const before = Number((await dataSource.query("SELECT COUNT(*) AS n FROM idempotency_keys WHERE expires_at < NOW(3)"))[0].n);
    expect((await store.prune()).deleted).toBe(before);
    const left = (await dataSource.query("SELECT idempotency_key AS k FROM idempotency_keys WHERE caller = 'caller-p'")) as Array<{ k: string }>;
    expect(left.map((r) => r.k)).toEqual([fresh]);
  });

  it('never takes over a finished answer because it is old: only a running one past the stale limit', async () => {
    const k = key();
    await store.claim('caller-a', k, 'h1');
    await store.complete('caller-a', k, 201, { kept: true });
    await age(k, 'started_at', IDEMPOTENCY_STALE_MS + 60_000);
    expect(await store.claim('caller-a', k, 'h1')).toEqual({ kind: 'replay', statusCode: 201, body: { kept: true } });
    expect(await store.claim('caller-a', k, 'h2')).toEqual({ kind: 'mismatch' });
  });

  it('lets exactly one of several concurrent requests take over an abandoned key', async () => {
    const k = key();
    await store.claim('caller-a', k, 'h1');
    await age(k, 'started_at', IDEMPOTENCY_STALE_MS + 1000);
    // A transaction holds the row so that every claim queues at its INSERT, then all go at once.
    const holder = await server();
    await holder.query(`USE \`${config.DB_NAME}\``);
    await holder.query('START TRANSACTION');
    await holder.query('SELECT * FROM idempotency_keys WHERE caller = ? AND idempotency_key = ? FOR UPDATE', ['caller-a', k]);
    const many = new IdempotencyStore(wide, config);
    const pending = Promise.all(Array.from({ length: 10 }, () => many.claim('caller-a', k, 'h2')));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await holder.query('COMMIT');
    await holder.end();
    const claims = await pending;
    expect(claims.filter((c) => c.kind === 'new')).toHaveLength(1);
    expect(claims.filter((c) => c.kind === 'running')).toHaveLength(9);
  });

  it('prunes every expired key, more than one statement\'s chunk of them', async () => {
    await dataSource.query(
      `INSERT INTO idempotency_keys (caller, idempotency_key, request_sha256, state, started_at, expires_at)
       SELECT 'caller-bulk', CONCAT('bulk-', seq), 'h', 'done', NOW(3) - INTERVAL 2 DAY, NOW(3) - INTERVAL 1 DAY FROM seq_1_to_10001`,
    );
    await store.prune();
    const [row] = (await dataSource.query("SELECT COUNT(*) AS n FROM idempotency_keys WHERE caller = 'caller-bulk'")) as Array<{ n: string }>;
    expect(Number(row.n)).toBe(0);
  });

  it('keeps answers for IDEMPOTENCY_TTL_HOURS (at least 24 h)', async () => {
    const k = key();
    await store.claim('caller-a', k, 'h1');
    const [row] = (await dataSource.query('SELECT TIMESTAMPDIFF(MINUTE, started_at, expires_at) AS minutes FROM idempotency_keys WHERE idempotency_key = ?', [k])) as Array<{ minutes: string }>;
    expect(Number(row.minutes)).toBe(config.IDEMPOTENCY_TTL_HOURS * 60);
    expect(config.IDEMPOTENCY_TTL_HOURS).toBeGreaterThanOrEqual(24);
  });
});
