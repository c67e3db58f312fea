import { randomFillSync } from 'node:crypto';

// Random bytes are drawn in blocks: one randomFillSync per 256 ids instead of one allocation and
// system call per id (ids are made on the decision path, several per request).
const POOL = Buffer.alloc(16 * 256);
let poolOffset = POOL.length;

/**
 * UUID version 7 (RFC 9562): a 48-bit millisecond timestamp then random bits. Ids sort by creation
 * time, which keeps InnoDB inserts append-only and lets "newest first" lists page by id.
 */
export function uuidv7(now: number = Date.now()): string {
  if (poolOffset >= POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  const bytes = Buffer.from(POOL.subarray(poolOffset, poolOffset + 16));
  poolOffset += 16;
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
