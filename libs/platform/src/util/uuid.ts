import { randomFillSync } from 'node:crypto';

// Random bytes are drawn in blocks: one randomFillSync per 256 ids instead of one allocation and
// system call per id (ids are made on the decision path, several per request).
const POOL = Buffer.alloc(16 * 256);
let poolOffset = POOL.length;

/** Char codes of the two lowercase hex digits of each byte value (byte b at 2b and 2b + 1). */
const HEX_CODES = new Uint8Array(512);
for (let b = 0; b < 256; b++) {
  const hex = b.toString(16).padStart(2, '0');
  HEX_CODES[2 * b] = hex.charCodeAt(0);
  HEX_CODES[2 * b + 1] = hex.charCodeAt(1);
}
/** Where the two hex digits of each of the 16 bytes go in the 36 characters of a canonical UUID. */
const DIGIT_AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
/** The 36 char codes of the UUID being formatted; the dashes never change. */
const CODES: number[] = new Array<number>(36).fill(45 /* - */);

/**
 * The canonical lowercase UUID of the 16 bytes at `o`, as ONE flat string. Concatenating 20 pieces
 * instead makes V8 build a tree of cons strings: about 480 bytes per id instead of 56, copied by every
 * young-generation collection while the id waits in a group-commit batch or a cache (100,000 decoded
 * tracking tokens took 273 MB instead of 61 MB; bench:ingest:ab in BENCHMARKS.md).
 */
export function uuidFromBytes(b: Uint8Array, o: number): string {
  for (let i = 0; i < 16; i++) {
    const at = DIGIT_AT[i];
    const v = b[o + i] * 2;
    CODES[at] = HEX_CODES[v];
    CODES[at + 1] = HEX_CODES[v + 1];
  }
  return String.fromCharCode.apply(null, CODES);
}

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
  // The id's 16 bytes of the pool (used once) become the UUID: 48-bit big-endian timestamp (the high
  // 16 bits, then the low 32), version and variant over the random rest.
  POOL.writeUInt16BE(Math.floor(now / 0x100000000) & 0xffff, o);
  POOL.writeUInt32BE(now >>> 0, o + 2);
  POOL[o + 6] = (POOL[o + 6] & 0x0f) | 0x70;
  POOL[o + 8] = (POOL[o + 8] & 0x3f) | 0x80;
  return uuidFromBytes(POOL, o);
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
