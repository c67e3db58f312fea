import type { Queryable } from '@app/platform';
import {
  CellListener,
  SKETCH_LEVELS,
  SketchLevel,
  SketchRow,
  campaignsWithExactReach,
  exactReachHours,
  exactReachListeners,
  readSketches,
  sketchKey,
  sketchTime,
  writeSketches,
} from '../repositories/reach-sketch.repository';
import { ReachSketch } from './reach-sketch';

export type { CellListener };

/** A listener parsed once for all levels: its hash, and its hour in ms since the epoch. */
interface Parsed {
  l: CellListener;
  hash: bigint;
  hourMs: number;
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
  const parsed = listeners.map((l): Parsed => ({ l, hash: BigInt(l.user_hash), hourMs: l.hour.getTime() }));
  for (const level of Object.values(SKETCH_LEVELS) as SketchLevel[]) await addToLevel(db, level, parsed);
}

async function addToLevel(db: Queryable, level: SketchLevel, listeners: Parsed[]): Promise<void> {
  const touched = new Map<string, { campaignId: string; time: number; rest: string[]; hashes: bigint[] }>();
  for (const { l, hash, hourMs } of listeners) {
    const time = sketchTime(level, hourMs);
    const rest = level.rest(l);
    const text = sketchKey(l.campaign_id, time, rest);
    let entry = touched.get(text);
    if (!entry) touched.set(text, (entry = { campaignId: l.campaign_id, time, rest, hashes: [] }));
    entry.hashes.push(hash);
  }
  const pairs = new Map<string, [string, number]>();
  for (const k of touched.values()) pairs.set(`${k.campaignId}|${k.time}`, [k.campaignId, k.time]);
  const existing = await readSketches(db, level, [...pairs.values()]);
  const rows: SketchRow[] = [];
  for (const [text, { campaignId, time, rest, hashes }] of touched) {
    const before = existing.get(text);
    const sketch = before ? ReachSketch.fromBytes(before) : new ReachSketch();
    for (const hash of hashes) sketch.add(hash);
    const after = sketch.toBytes();
    if (!before || !after.equals(before)) rows.push({ campaignId, time, rest, sketch: after });
  }
  await writeSketches(db, level, rows);
}

/** Listeners per read while building sketches from `reach_hourly` (bounded memory). */
const BACKFILL_ROWS = 100_000;

/**
 * Builds the sketches of everything in `reach_hourly` (an installation from before sketches, or the
 * reach benchmark's data), a campaign and a slice of hours at a time, with the aggregation's own code.
 */
export async function backfillReachSketches(db: Queryable, onProgress?: (rows: number) => void): Promise<number> {
  let total = 0;
  for (const campaignId of await campaignsWithExactReach(db)) {
    const hours = await exactReachHours(db, campaignId);
    // Whole hours at a time, as many as fit BACKFILL_ROWS (an hour larger than that is read alone).
    for (let i = 0; i < hours.length; ) {
      let rows = 0;
      let j = i;
      while (j < hours.length && (rows === 0 || rows + hours[j].rows <= BACKFILL_ROWS)) rows += hours[j++].rows;
      const listeners = await exactReachListeners(db, campaignId, hours[i].hour, hours[j - 1].hour);
      await addToReachSketches(db, listeners);
      total += listeners.length;
      onProgress?.(total);
      i = j;
    }
  }
  return total;
}
