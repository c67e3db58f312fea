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
  /** Primary key, in order; the second column is the time (hour or day). */
  columns: string[];
  key(l: CellListener): unknown[];
}

const dayOf = (hour: Date) => hour.toISOString().slice(0, 10);

/**
 * The sketch tables, finest first: per rollup cell and hour (any range, any breakdown), per rollup cell
 * and UTC day (whole days with a breakdown), per line item and day and per campaign and day (whole
 * days without breakdown: a 30-day campaign report merges 30 sketches).
 */
export const SKETCH_LEVELS = {
  hourly: {
    table: 'reach_sketches_hourly',
    columns: ['campaign_id', 'hour', 'line_item_id', 'creative_id', 'country', 'platform'],
    key: (l) => [l.campaign_id, l.hour, l.line_item_id, l.creative_id, l.country, l.platform],
  },
  daily: {
    table: 'reach_sketches_daily',
    columns: ['campaign_id', 'day', 'line_item_id', 'creative_id', 'country', 'platform'],
    key: (l) => [l.campaign_id, dayOf(l.hour), l.line_item_id, l.creative_id, l.country, l.platform],
  },
  lineItemDaily: { table: 'reach_sketches_line_item_daily', columns: ['campaign_id', 'day', 'line_item_id'], key: (l) => [l.campaign_id, dayOf(l.hour), l.line_item_id] },
  campaignDaily: { table: 'reach_sketches_campaign_daily', columns: ['campaign_id', 'day'], key: (l) => [l.campaign_id, dayOf(l.hour)] },
} satisfies Record<string, SketchLevel>;

/** (campaign, time) pairs per lookup of existing sketches. */
const PAIRS_PER_READ = 500;
/** Sketch bytes per upsert statement (hex-escaped, twice that in SQL; MySQL's packet default is 16 MB). */
const BYTES_PER_WRITE = 3 * 1024 * 1024;

/** A key's text form: times as ISO strings, whether they come from a listener or from a stored row. */
function keyText(values: unknown[]): string {
  return values.map((v) => (v instanceof Date ? v.toISOString() : String(v))).join('|');
}

/** A stored row's time as the listener keys have it (DATETIME as a Date, DATE as 'YYYY-MM-DD'). */
function storedKey(level: SketchLevel, row: Record<string, unknown>): string {
  return keyText(level.columns.map((c) => (c === 'day' ? dayOf(row[c] as Date) : row[c])));
}

/**
 * Adds listeners to every sketch level: reads the touched sketches, merges, writes back those that
 * changed. Run inside the aggregation batch's transaction, whose watermark lock makes it the only
 * writer of these tables (as of the rollups), so the read-merge-write cannot lose a concurrent update
 * and a batch that rolls back leaves no sketch behind. Merging is idempotent: replaying listeners
 * already in a sketch changes nothing and writes nothing.
 */
export async function addToReachSketches(db: Queryable, listeners: CellListener[]): Promise<void> {
  if (listeners.length === 0) return;
  for (const level of Object.values(SKETCH_LEVELS) as SketchLevel[]) await addToLevel(db, level, listeners);
}

async function addToLevel(db: Queryable, level: SketchLevel, listeners: CellListener[]): Promise<void> {
  const touched = new Map<string, { key: unknown[]; hashes: bigint[] }>();
  for (const l of listeners) {
    const key = level.key(l);
    const text = keyText(key);
    let entry = touched.get(text);
    if (!entry) touched.set(text, (entry = { key, hashes: [] }));
    entry.hashes.push(BigInt(l.user_hash));
  }
  const existing = await readExisting(db, level, [...touched.values()].map((t) => t.key));
  const rows: unknown[][] = [];
  for (const [text, { key, hashes }] of touched) {
    const before = existing.get(text);
    const sketch = before ? ReachSketch.fromBytes(before) : new ReachSketch();
    for (const hash of hashes) sketch.add(hash);
    const after = sketch.toBytes();
    if (!before || !after.equals(before)) rows.push([...key, after]);
  }
  await upsert(db, level, rows);
}

async function readExisting(db: Queryable, level: SketchLevel, keys: unknown[][]): Promise<Map<string, Buffer>> {
  const pairs = new Map(keys.map((k) => [keyText(k.slice(0, 2)), k.slice(0, 2)]));
  const list = [...pairs.values()];
  const out = new Map<string, Buffer>();
  const [campaign, time] = level.columns;
  for (let i = 0; i < list.length; i += PAIRS_PER_READ) {
    const chunk = list.slice(i, i + PAIRS_PER_READ);
    const rows = (await db.query(
      `SELECT ${level.columns.join(', ')}, sketch FROM ${level.table} WHERE (${campaign}, ${time}) IN (${chunk.map(() => '(?, ?)').join(', ')})`,
      chunk.flat(),
    )) as Array<Record<string, unknown> & { sketch: Buffer }>;
    for (const row of rows) out.set(storedKey(level, row), row.sketch);
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
    const size = (row[row.length - 1] as Buffer).length;
    if (bytes + size > BYTES_PER_WRITE) await flush();
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
