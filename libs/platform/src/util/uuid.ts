import { randomFillSync } from 'node:crypto';

// Random bytes are drawn in blocks: one randomFillSync per 256 ids instead of one allocation and
// system call per id (ids are made on the decision path, several per request). The id is written
// straight from the pool through a byte-to-hex table, without a Buffer per id.
const POOL = Buffer.alloc(16 * 256);
let poolOffset = POOL.length;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * UUID version 7 (RFC 9562): a 48-bit millisecond timestamp then random bits. Ids sort by creation
 * time, which keeps InnoDB inserts append-only and lets "newest first" lists page by id.
 */
export function uuidv7(now: number = Date.now()): string {
  if (poolOffset >= POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  const o = poolOffset;
  poolOffset += 16;
  const b = POOL;
  // 48-bit big-endian timestamp: the high 16 bits, then the low 32.
  const high = Math.floor(now / 0x100000000);
  const low = now >>> 0;
  return (
    HEX[(high >>> 8) & 0xff] + HEX[high & 0xff] + HEX[low >>> 24] + HEX[(low >>> 16) & 0xff] + '-' +
    HEX[(low >>> 8) & 0xff] + HEX[low & 0xff] + '-' +
    HEX[(b[o + 6] & 0x0f) | 0x70] + HEX[b[o + 7]] + '-' +
    HEX[(b[o + 8] & 0x3f) | 0x80] + HEX[b[o + 9]] + '-' +
    HEX[b[o + 10]] + HEX[b[o + 11]] + HEX[b[o + 12]] + HEX[b[o + 13]] + HEX[b[o + 14]] + HEX[b[o + 15]]
  );
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
