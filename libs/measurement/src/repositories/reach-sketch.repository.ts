import type { Queryable } from '@app/platform';

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

export interface SketchLevel {
  table: string;
  /** Primary key, in order: campaign, time (hour or day), then the level's other columns. */
  columns: string[];
  time: 'hour' | 'day';
  /** The key columns after campaign and time. */
  rest(l: CellListener): string[];
}

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

const DAY_MS = 86_400_000;
/** (campaign, time) pairs per lookup of existing sketches. */
const PAIRS_PER_READ = 500;
/** SQL bytes per upsert statement, well under MySQL's default 16 MB packet: sketches are hex-escaped (twice their size), keys ~150 bytes a row. */
const SQL_BYTES_PER_WRITE = 6 * 1024 * 1024;
const SQL_BYTES_PER_ROW = 160;

/** The time of a level's key as a number: the hour in ms, or the day's midnight in ms. */
export const sketchTime = (level: SketchLevel, ms: number) => (level.time === 'hour' ? ms : ms - (ms % DAY_MS));
/** A sketch's key as text: campaign, time (sketchTime) and the level's other columns. */
export const sketchKey = (campaignId: string, time: number, rest: string[]) => `${campaignId}|${time}|${rest.join('|')}`;
/** A time key as the column takes it: DATETIME as a Date, DATE as 'YYYY-MM-DD'. */
const timeParam = (level: SketchLevel, time: number) => (level.time === 'hour' ? new Date(time) : new Date(time).toISOString().slice(0, 10));

/** One sketch row to write: campaign, time (sketchTime), the level's other columns, and the serialised sketch. */
export interface SketchRow {
  campaignId: string;
  time: number;
  rest: string[];
  sketch: Buffer;
}

/**
 * The SQL of the reach sketches (`reach_sketches_*`): the stored sketches of some (campaign, time)
 * pairs of one level, by sketchKey, and their upsert. Free functions over any Queryable: they run in
 * the aggregation batch's transaction, and in the migration that backfills the sketches.
 */
export async function readSketches(db: Queryable, level: SketchLevel, pairs: Array<[campaignId: string, time: number]>): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const [campaign, time, ...restColumns] = level.columns;
  for (let i = 0; i < pairs.length; i += PAIRS_PER_READ) {
    const chunk = pairs.slice(i, i + PAIRS_PER_READ);
    const rows = await db.query<Array<Record<string, unknown> & { sketch: Buffer }>>(
      `SELECT ${level.columns.join(', ')}, sketch FROM ${level.table} WHERE (${campaign}, ${time}) IN (${chunk.map(() => '(?, ?)').join(', ')})`,
      chunk.flatMap(([c, t]) => [c, timeParam(level, t)]),
    );
    for (const row of rows) {
      out.set(sketchKey(row[campaign] as string, sketchTime(level, (row[time] as Date).getTime()), restColumns.map((c) => row[c] as string)), row.sketch);
    }
  }
  return out;
}

/** Writes sketches of one level (inserted, or replacing the stored ones), in statements of bounded size. */
export async function writeSketches(db: Queryable, level: SketchLevel, rows: SketchRow[]): Promise<void> {
  let chunk: unknown[][] = [];
  let bytes = 0;
  const flush = async () => {
    if (chunk.length === 0) return;
    await db.query(`INSERT INTO ${level.table} (${level.columns.join(', ')}, sketch) VALUES ? ON DUPLICATE KEY UPDATE sketch = VALUES(sketch)`, [chunk]);
    chunk = [];
    bytes = 0;
  };
  for (const row of rows) {
    const size = 2 * row.sketch.length + SQL_BYTES_PER_ROW;
    if (bytes + size > SQL_BYTES_PER_WRITE) await flush();
    chunk.push([row.campaignId, timeParam(level, row.time), ...row.rest, row.sketch]);
    bytes += size;
  }
  await flush();
}

/** The campaigns with rows in `reach_hourly`. */
export async function campaignsWithExactReach(db: Queryable): Promise<string[]> {
  return (await db.query<Array<{ campaign_id: string }>>('SELECT DISTINCT campaign_id FROM reach_hourly')).map((r) => r.campaign_id);
}

/** A campaign's hours in `reach_hourly` with their listener rows, in order. */
export async function exactReachHours(db: Queryable, campaignId: string): Promise<Array<{ hour: Date; rows: number }>> {
  const rows = await db.query<Array<{ hour: Date; n: string }>>('SELECT hour, COUNT(*) AS n FROM reach_hourly WHERE campaign_id = ? GROUP BY hour ORDER BY hour', [campaignId]);
  return rows.map((r) => ({ hour: r.hour, rows: Number(r.n) }));
}

/** A campaign's listeners in `reach_hourly` from hour `first` to hour `last`, both included. */
export async function exactReachListeners(db: Queryable, campaignId: string, first: Date, last: Date): Promise<CellListener[]> {
  return db.query<CellListener[]>(
    'SELECT campaign_id, hour, line_item_id, creative_id, country, platform, CAST(user_hash AS CHAR) AS user_hash FROM reach_hourly WHERE campaign_id = ? AND hour >= ? AND hour <= ?',
    [campaignId, first, last],
  );
}
