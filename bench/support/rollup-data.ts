import { Connection } from 'mysql2/promise';

const DAY_MS = 86_400_000;

/** `bench_seq (n)`: the integers 0 .. count - 1 (up to 10,000,000), for set-based data generation. */
export async function createSequence(db: Connection, count: number): Promise<void> {
  await db.query('CREATE TABLE bench_digits (d INT NOT NULL PRIMARY KEY)');
  await db.query('INSERT INTO bench_digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)');
  await db.query(`CREATE TABLE bench_seq (n INT NOT NULL PRIMARY KEY)
    SELECT a.d + b.d * 10 + c.d * 100 + e.d * 1000 + f.d * 10000 + g.d * 100000 + h.d * 1000000 AS n
    FROM bench_digits a, bench_digits b, bench_digits c, bench_digits e, bench_digits f, bench_digits g, bench_digits h
    WHERE a.d + b.d * 10 + c.d * 100 + e.d * 1000 + f.d * 10000 + g.d * 100000 + h.d * 1000000 < ${count}`);
}

export async function dropSequence(db: Connection): Promise<void> {
  await db.query('DROP TABLE bench_seq, bench_digits');
}

/** A UTC advertiser and its (completed) campaign running `days` days from `start`, written straight to MySQL. */
export async function seedCampaign(db: Connection, advertiserId: string, campaignId: string, start: Date, days: number): Promise<void> {
  const now = new Date();
  const audit = [1, now, now, 'bench', 'bench'];
  await db.query('INSERT INTO advertisers (id, name, currency, timezone, version, created_at, updated_at, created_by, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', [
    advertiserId, 'Bench advertiser', 'USD', 'UTC', ...audit,
  ]);
  await db.query('INSERT INTO campaigns (id, advertiser_id, name, start_at, end_at, budget_micros, status, version, created_at, updated_at, created_by, updated_by) VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?)', [
    campaignId, advertiserId, 'Bench campaign', start, new Date(start.getTime() + days * DAY_MS), 'completed', ...audit,
  ]);
}

/** The p-th percentile of ascending values (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
