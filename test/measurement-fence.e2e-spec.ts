import { AggregationService } from '@app/measurement';
import { WorkerConfig, mysqlOptions } from '@app/platform';
import { Connection, ResultSetHeader } from 'mysql2/promise';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { e2eConfig } from './support/e2e-config';
import { mysql } from './support/measurement-fixtures';
import { sleep } from './support/processes';

/** One raw event, written as the event store writes a batch: under the fence's shared lock. */
async function insertRaw(conn: Connection): Promise<number> {
  await conn.query('SELECT id FROM ingest_fence WHERE id = 1 LOCK IN SHARE MODE');
  const [result] = await conn.query<ResultSetHeader>(
    `INSERT INTO raw_events (decision_id, event_type, status, occurred_at, received_at, advertiser_id, campaign_id, line_item_id, creative_id,
       user_id, user_hash, country, platform, pricing_model, rate_micros, ingest_tag)
     VALUES (?, 'impression', 'valid', NOW(3), NOW(3), ?, ?, ?, ?, 'fence-listener', 1, 'US', 'ios', 'CPM', 1000, 1)`,
    [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()],
  );
  return result.insertId;
}

describe('aggregation fence (shared stack database)', () => {
  let dataSource: DataSource;
  let slow: Connection;
  let fast: Connection;

  beforeAll(async () => {
    dataSource = new DataSource({ ...mysqlOptions(e2eConfig(WorkerConfig)), poolSize: 2 });
    await dataSource.initialize();
    slow = await mysql();
    fast = await mysql();
  });

  afterAll(async () => {
    await slow.query('ROLLBACK').catch(() => undefined);
    await Promise.all([slow.end(), fast.end(), dataSource.destroy()]);
  });

  it('settles no id while an ingest transaction holding a lower id is still open', async () => {
    // The slow batch takes its id first and stays open; a later batch takes a higher id and commits.
    await slow.query('START TRANSACTION');
    const low = await insertRaw(slow);
    await fast.query('START TRANSACTION');
    const high = await insertRaw(fast);
    await fast.query('COMMIT');
    expect(high).toBeGreaterThan(low);

    const aggregation = new AggregationService(dataSource, e2eConfig(WorkerConfig));
    let settled: number | undefined;
    const fence = aggregation.settledId().then((id) => (settled = id));
    // MAX(id) already reads `high`; aggregating up to it now would skip `low` for ever once it commits.
    await sleep(500);
    expect(settled).toBeUndefined();

    await slow.query('COMMIT');
    await fence;
    expect(settled).toBeGreaterThanOrEqual(high);
  });
});
