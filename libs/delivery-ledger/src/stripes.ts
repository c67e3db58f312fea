/**
 * Stripes: how the ledger spreads over a Redis Cluster. Every ledger key lives in one of STRIPES
 * stripes: an account (line item or campaign) in the stripe of its id, a listener's caps and
 * outstanding decisions in the stripe of the listener id. A stripe's keys share one hash tag, so that
 * each script call touches one slot (one shard), and each stripe has its own restore markers, so that
 * a shard restarting empty is noticed by the scripts running on it (its markers are gone with it).
 *
 * The tags are chosen so that stripe k's slot lies in the k-th 1/STRIPES of the slot space: a cluster
 * assigning contiguous slot ranges (as `redis-cli --cluster create` and rebalancing do) gets stripes in
 * proportion to its slots, whatever the number of shards.
 */
export const STRIPES = 64;
export const CLUSTER_SLOTS = 16384;

/** CRC16/XMODEM, Redis Cluster's key hash. */
function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The cluster slot of a key (its hash tag's, when it has a non-empty one), as Redis computes it. */
export function clusterSlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  return crc16(Buffer.from(key, 'utf8')) % CLUSTER_SLOTS;
}

function findTags(): string[] {
  const tags: string[] = [];
  for (let k = 0; k < STRIPES; k++) {
    for (let n = 0; ; n++) {
      const tag = `s${k}.${n}`;
      if (Math.floor((clusterSlot(tag) * STRIPES) / CLUSTER_SLOTS) === k) {
        tags.push(tag);
        break;
      }
    }
  }
  return tags;
}

/** Hash tag (without braces) of each stripe. */
export const STRIPE_TAGS: readonly string[] = findTags();

/** The stripe of an account or listener id (FNV-1a of its UTF-8 bytes): any id, spread evenly. */
export function stripeOf(id: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(id, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % STRIPES;
}
