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

/** Value of each lowercase hex digit's char code, -1 for anything else. */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i;
const isDash = (i: number) => i === 8 || i === 13 || i === 18 || i === 23;

/**
 * Whether `v` is a UUID exactly as this platform writes them (lowercase, canonical), i.e. one that
 * survives uuidToBytes then uuidFromBytes unchanged. No regular expression, nothing allocated.
 */
export function isCanonicalUuid(v: string): boolean {
  if (v.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const code = v.charCodeAt(i);
    if (isDash(i) ? code !== 45 /* - */ : code > 127 || HEX_VALUE[code] < 0) return false;
  }
  return true;
}

/** Writes the 16 bytes of a UUID checked by isCanonicalUuid at `offset`; returns the offset after them. */
export function uuidToBytes(uuid: string, out: Buffer, offset: number): number {
  let at = offset;
  for (let i = 0; i < 36; i += 2) {
    if (isDash(i)) i++;
    out[at++] = (HEX_VALUE[uuid.charCodeAt(i)] << 4) | HEX_VALUE[uuid.charCodeAt(i + 1)];
  }
  return at;
}

/** The canonical lowercase UUID of the 16 bytes at `offset`. */
export function uuidFromBytes(b: Buffer, o: number): string {
  return (
    HEX[b[o]] + HEX[b[o + 1]] + HEX[b[o + 2]] + HEX[b[o + 3]] + '-' + HEX[b[o + 4]] + HEX[b[o + 5]] + '-' + HEX[b[o + 6]] + HEX[b[o + 7]] + '-' +
    HEX[b[o + 8]] + HEX[b[o + 9]] + '-' + HEX[b[o + 10]] + HEX[b[o + 11]] + HEX[b[o + 12]] + HEX[b[o + 13]] + HEX[b[o + 14]] + HEX[b[o + 15]]
  );
}
