import { RejectedEventsRetention } from '@app/measurement/retention/rejected-events-retention.service';
import { WorkerConfig, mysqlOptions } from '@app/platform';
import { Logger } from '@nestjs/common';
import { Queue } from 'bullmq';
import { createHash, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { e2eConfig } from './support/e2e-config';
import { waitFor } from './support/processes';

/** Retention of rejected beacons (bad signature, malformed token): the hourly worker job and what it deletes. */
const config = e2eConfig(WorkerConfig, { REJECTED_EVENTS_RETENTION_DAYS: 30 });
const DAY_MS = 86_400_000;
Logger.overrideLogger(['error']);

describe('rejected events retention', () => {
  let dataSource: DataSource;

  beforeAll(async () => {
    dataSource = await new DataSource({ ...mysqlOptions(config), extra: { connectionLimit: 2 } }).initialize();
  });

  afterAll(async () => {
    await dataSource?.destroy();
  });

  async function insertRejected(receivedAt: Date): Promise<string> {
    const sha = createHash('sha256').update(randomUUID()).digest('hex');
    await dataSource.query('INSERT INTO rejected_events (event_type, reason, received_at, token_sha256) VALUES (?, ?, ?, ?)', ['impression', 'bad_signature', receivedAt, sha]);
    return sha;
  }

  async function exists(sha: string): Promise<boolean> {
    const rows = (await dataSource.query('SELECT 1 FROM rejected_events WHERE token_sha256 = ?', [sha])) as unknown[];
    return rows.length > 0;
  }

  it('deletes rejected beacons older than REJECTED_EVENTS_RETENTION_DAYS and keeps the rest', async () => {
    const now = new Date();
    const old = await Promise.all([insertRejected(new Date(now.getTime() - 31 * DAY_MS)), insertRejected(new Date(now.getTime() - 400 * DAY_MS))]);
    const kept = await Promise.all([insertRejected(new Date(now.getTime() - 29 * DAY_MS)), insertRejected(now)]);

    const result = await new RejectedEventsRetention(dataSource, config).prune(now);

    expect(result.deleted).toBeGreaterThanOrEqual(2);
    expect(result.before).toBe(new Date(now.getTime() - 30 * DAY_MS).toISOString());
    for (const sha of old) expect(await exists(sha)).toBe(false);
    for (const sha of kept) expect(await exists(sha)).toBe(true);
    // A second run has nothing left to do for these rows.
    expect((await new RejectedEventsRetention(dataSource, config).prune(now)).deleted).toBe(0);
  });

  it('is scheduled hourly in the maintenance queue by the worker', async () => {
    const queue = new Queue('maintenance', { connection: { url: config.REDIS_URL } as never, prefix: config.QUEUE_PREFIX });
    try {
      const scheduler = await waitFor(() => queue.getJobScheduler('measurement.prune-rejected'), 15000, 'the prune job scheduler');
      expect(Number(scheduler.every)).toBe(3_600_000);
    } finally {
      await queue.close();
    }
  });
});
