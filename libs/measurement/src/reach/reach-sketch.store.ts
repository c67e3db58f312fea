import { ReachSketch } from './reach-sketch';

/** A TypeORM QueryRunner, EntityManager or DataSource: anything that runs SQL with `?` parameters. */
export interface Queryable {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

/** One listener with a valid impression in one rollup cell and UTC hour. */
export interface CellListener {
  campaign_id: string;
  hour: Date;
  line_item_id: string;
  creative_id: string;
  country: string;
  platform: string;
  /** Unsigned 64-bit as a decimal string (selected as CHAR: exact whatever the driver's number options). */
  user_hash: string;
}

interface SketchLevel {
  table: string;
  /** Primary key, in order: campaign, time (hour or day), then the level's other columns. */
  columns: string[];
  time: 'hour' | 'day';
  /** The key columns after campaign and time. */
  rest(l: CellListener): string[];
}

const DAY_MS = 86_400_000;

/**
 * The sketch tables, finest first: per rollup cell and hour (any range, any breakdown), per rollup cell
 * and UTC day (whole days with a breakdown), per line item and day and per campaign and day (whole
 * days without breakdown: a 30-day campaign report merges 30 sketches).
 */
export const SKETCH_LEVELS = {
  hourly: {
    table: 'reach_sketches_hourly',
    columns: ['campaign_id', 'hour', 'line_item_id', 'creative_id', 'country', 'platform'],
    time: 'hour',
    rest: (l) => [l.line_item_id, l.creative_id, l.country, l.platform],
  },
  daily: {
    table: 'reach_sketches_daily',
    columns: ['campaign_id', 'day', 'line_item_id', 'creative_id', 'country', 'platform'],
    time: 'day',
    rest: (l) => [l.line_item_id, l.creative_id, l.country, l.platform],
  },
  lineItemDaily: { table: 'reach_sketches_line_item_daily', columns: ['campaign_id', 'day', 'line_item_id'], time: 'day', rest: (l) => [l.line_item_id] },
  campaignDaily: { table: 'reach_sketches_campaign_daily', columns: ['campaign_id', 'day'], time: 'day', rest: () => [] },
} satisfies Record<string, SketchLevel>;

/** (campaign, time) pairs per lookup of existing sketches. */
const PAIRS_PER_READ = 500;
/** SQL bytes per upsert statement, well under MySQL's default 16 MB packet: sketches are hex-escaped (twice their size), keys ~150 bytes a row. */
const SQL_BYTES_PER_WRITE = 6 * 1024 * 1024;
const SQL_BYTES_PER_ROW = 160;

/** A listener parsed once for all levels: its hash, and its hour in ms since the epoch. */
interface Parsed {
  l: CellListener;
  hash: bigint;
  hourMs: number;
}

/** The time of a level's key as a number: the hour in ms, or the day's midnight in ms. */
const timeOf = (level: SketchLevel, ms: number) => (level.time === 'hour' ? ms : ms - (ms % DAY_MS));
const keyText = (campaignId: string, time: number, rest: string[]) => `${campaignId}|${time}|${rest.join('|')}`;
/** A time key as the column takes it: DATETIME as a Date, DATE as 'YYYY-MM-DD'. */
const timeParam = (level: SketchLevel, time: number) => (level.time === 'hour' ? new Date(time) : new Date(time).toISOString().slice(0, 10));

/**
 * Adds listeners to every sketch level: reads the touched sketches, merges, writes back those that
 * changed. Run inside the aggregation batch's transaction, whose watermark lock makes it the only
 * writer of these tables (as of the rollups), so the read-merge-write cannot lose a concurrent update
 * and a batch that rolls back leaves no sketch behind. Merging is idempotent: replaying listeners
 * already in a sketch changes nothing and writes nothing.
 */
export async function addToReachSketches(db: Queryable, listeners: CellListener[]): Promise<void> {
  if (listeners.length === 0) return;
  const parsed = listeners.map((l): Parsed => ({ l, hash: BigInt(l.user_hash), hourMs: l.hour.getTime() }));
  for (const level of Object.values(SKETCH_LEVELS) as SketchLevel[]) await addToLevel(db, level, parsed);
}

async function addToLevel(db: Queryable, level: SketchLevel, listeners: Parsed[]): Promise<void> {
  const touched = new Map<string, { campaignId: string; time: number; rest: string[]; hashes: bigint[] }>();
  for (const { l, hash, hourMs } of listeners) {
    const time = timeOf(level, hourMs);
    const rest = level.rest(l);
    const text = keyText(l.campaign_id, time, rest);
    let entry = touched.get(text);
    if (!entry) touched.set(text, (entry = { campaignId: l.campaign_id, time, rest, hashes: [] }));
    entry.hashes.push(hash);
  }
  const existing = await readExisting(db, level, touched.values());
  const rows: unknown[][] = [];
  for (const [text, { campaignId, time, rest, hashes }] of touched) {
    const before = existing.get(text);
    const sketch = before ? ReachSketch.fromBytes(before) : new ReachSketch();
    for (const hash of hashes) sketch.add(hash);
    const after = sketch.toBytes();
    if (!before || !after.equals(before)) rows.push([campaignId, timeParam(level, time), ...rest, after]);
  }
  await upsert(db, level, rows);
}

async function readExisting(db: Queryable, level: SketchLevel, keys: Iterable<{ campaignId: string; time: number }>): Promise<Map<string, Buffer>> {
  const pairs = new Map<string, [string, number]>();
  for (const k of keys) pairs.set(`${k.campaignId}|${k.time}`, [k.campaignId, k.time]);
  const list = [...pairs.values()];
  const out = new Map<string, Buffer>();
  const [campaign, time, ...restColumns] = level.columns;
  for (let i = 0; i < list.length; i += PAIRS_PER_READ) {
    const chunk = list.slice(i, i + PAIRS_PER_READ);
    const rows = (await db.query(
      `SELECT ${level.columns.join(', ')}, sketch FROM ${level.table} WHERE (${campaign}, ${time}) IN (${chunk.map(() => '(?, ?)').join(', ')})`,
      chunk.flatMap(([c, t]) => [c, timeParam(level, t)]),
    )) as Array<Record<string, unknown> & { sketch: Buffer }>;
    for (const row of rows) {
      out.set(keyText(row[campaign] as string, timeOf(level, (row[time] as Date).getTime()), restColumns.map((c) => row[c] as string)), row.sketch);
    }
  }
  return out;
}

async function upsert(db: Queryable, level: SketchLevel, rows: unknown[][]): Promise<void> {
  let chunk: unknown[][] = [];
  let bytes = 0;
  const flush = async () => {
    if (chunk.length === 0) return;
    await db.query(`INSERT INTO ${level.table} (${level.columns.join(', ')}, sketch) VALUES ? ON DUPLICATE KEY UPDATE sketch = VALUES(sketch)`, [chunk]);
    chunk = [];
    bytes = 0;
  };
  for (const row of rows) {
    const size = 2 * (row[row.length - 1] as Buffer).length + SQL_BYTES_PER_ROW;
    if (bytes + size > SQL_BYTES_PER_WRITE) await flush();
    chunk.push(row);
    bytes += size;
  }
  await flush();
}

/** Listeners per read while building sketches from `reach_hourly` (bounded memory). */
const BACKFILL_ROWS = 100_000;

/**
 * Builds the sketches of everything in `reach_hourly` (an installation from before sketches, or the
 * reach benchmark's data), a campaign and a slice of hours at a time, with the aggregation's own code.
 */
export async function backfillReachSketches(db: Queryable, onProgress?: (rows: number) => void): Promise<number> {
  let total = 0;
  const campaigns = (await db.query('SELECT DISTINCT campaign_id FROM reach_hourly')) as Array<{ campaign_id: string }>;
  for (const { campaign_id } of campaigns) {
    const hours = (await db.query('SELECT hour, COUNT(*) AS n FROM reach_hourly WHERE campaign_id = ? GROUP BY hour ORDER BY hour', [campaign_id])) as Array<{ hour: Date; n: string }>;
    // Whole hours at a time, as many as fit BACKFILL_ROWS (an hour larger than that is read alone).
    for (let i = 0; i < hours.length; ) {
      let rows = 0;
      let j = i;
      while (j < hours.length && (rows === 0 || rows + Number(hours[j].n) <= BACKFILL_ROWS)) rows += Number(hours[j++].n);
      const listeners = (await db.query(
        'SELECT campaign_id, hour, line_item_id, creative_id, country, platform, CAST(user_hash AS CHAR) AS user_hash FROM reach_hourly WHERE campaign_id = ? AND hour >= ? AND hour <= ?',
        [campaign_id, hours[i].hour, hours[j - 1].hour],
      )) as CellListener[];
      await addToReachSketches(db, listeners);
      total += listeners.length;
      onProgress?.(total);
      i = j;
    }
  }
  return total;
}
