import { randomInt } from 'node:crypto';

const HOUR_MS = 3_600_000;

/** An unverifiable beacon (no trustworthy claims) as the store receives it. */
export interface RejectedBeacon {
  event: string;
  reason: string;
  receivedAt: number;
  tokenSha256: string;
  ipHash: unknown;
  uaHash: unknown;
}

/** What one batch writes for its unverifiable beacons: counts to add, and candidate sample rows. */
export interface RejectedRows {
  /** [hour, reason, event_type, events], one per key, in key order (concurrent batches lock counters in one order). */
  counts: Array<[Date, string, string, number]>;
  /** [event_type, reason, received_at, token_sha256, ip_hash, ua_hash, sample_hour, sample_slot], in (hour, reason, slot) order. */
  samples: unknown[][];
}

/**
 * Anyone can send unverifiable beacons, so each is counted (per hour, reason and event) and only a
 * bounded sample is kept as rows: each candidate takes a random one of `samplesPerHour` slots of its
 * hour and reason, and the unique key on (sample_hour, reason, sample_slot) drops it when that slot is
 * already taken. At most `samplesPerHour` rows per reason and hour, whatever the traffic, without a read;
 * random slots let later batches of the hour still fill the free ones.
 */
export function rejectedRows(beacons: RejectedBeacon[], samplesPerHour: number, random: (max: number) => number = randomInt): RejectedRows {
  const counts = new Map<string, [Date, string, string, number]>();
  const freeSlots = new Map<string, number[]>();
  const samples: Array<{ key: string; slot: number; row: unknown[] }> = [];
  for (const b of beacons) {
    const hour = Math.floor(b.receivedAt / HOUR_MS) * HOUR_MS;
    const countKey = `${hour}|${b.reason}|${b.event}`;
    const count = counts.get(countKey);
    if (count) count[3]++;
    else counts.set(countKey, [new Date(hour), b.reason, b.event, 1]);
    if (samplesPerHour <= 0) continue;
    const sampleKey = `${hour}|${b.reason}`;
    let slots = freeSlots.get(sampleKey);
    if (!slots) freeSlots.set(sampleKey, (slots = Array.from({ length: samplesPerHour }, (_, i) => i)));
    if (slots.length === 0) continue;
    // Draw a slot not yet used by this batch (swap-remove keeps it O(1)).
    const at = random(slots.length);
    const slot = slots[at];
    slots[at] = slots[slots.length - 1];
    slots.pop();
    samples.push({ key: sampleKey, slot, row: [b.event, b.reason, new Date(b.receivedAt), b.tokenSha256, b.ipHash, b.uaHash, new Date(hour), slot] });
  }
  const byKey = <T>(entries: Array<[string, T]>) => entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
  return {
    counts: byKey([...counts.entries()]),
    samples: byKey(samples.map((s) => [`${s.key}|${String(s.slot).padStart(5, '0')}`, s.row] as [string, unknown[]])),
  };
}
