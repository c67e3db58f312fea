import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { userHashOf } from '../ingest/ivt-classifier';
import { EXACT_LIMIT, ReachSketch } from './reach-sketch';

/** murmur3's 32-bit finalizer: a bijective, well-mixing function. */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** `count` distinct, deterministic, well-mixed 64-bit values for a seed (distinct: the high half is a bijection of i). */
function hashes(seed: number, count: number): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < count; i++) out.push((BigInt(fmix32((i + Math.imul(seed, 0x9e3779b9)) >>> 0)) << 32n) | BigInt(fmix32(Math.imul(i, 0x27d4eb2f) ^ seed)));
  return out;
}

function sketchOf(values: Iterable<bigint>): ReachSketch {
  const sketch = new ReachSketch();
  for (const v of values) sketch.add(v);
  return sketch;
}

/** A sketch's bytes by digest: Jest's deep equality over 128 KiB buffers is slow, and a digest shows the same. */
const digest = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

const relativeError = (estimate: number, truth: number) => Math.abs(estimate - truth) / truth;

describe('ReachSketch', () => {
  it('counts 1,000,000 distinct listeners (their real user_hash) within 1%', () => {
    const sketch = new ReachSketch();
    for (let i = 0; i < 1_000_000; i++) sketch.add(BigInt(userHashOf(`listener-${i}`)));
    // Every listener a second time: a distinct count, not a count of impressions.
    for (let i = 0; i < 1_000_000; i += 3) sketch.add(BigInt(userHashOf(`listener-${i}`)));
    expect(sketch.exact).toBe(false);
    expect(relativeError(sketch.count(), 1_000_000)).toBeLessThan(0.01);
  });

  it('keeps within 1% from just past the exact limit to millions, and its spread matches the 0.29% standard error', () => {
    for (const n of [EXACT_LIMIT + 1, 40_000, 250_000]) {
      const sketch = sketchOf(hashes(n, n));
      expect({ n, ok: relativeError(sketch.count(), n) < 0.01 }).toEqual({ n, ok: true });
    }
    const errors = Array.from({ length: 16 }, (_, seed) => (sketchOf(hashes(1000 + seed, 60_000)).count() - 60_000) / 60_000);
    const rms = Math.sqrt(errors.reduce((sum, e) => sum + e * e, 0) / errors.length);
    expect(rms).toBeLessThan(0.0045);
    expect(Math.abs(errors.reduce((a, b) => a + b, 0) / errors.length)).toBeLessThan(0.002);
  });

  it('is exact and compact while a cell has few listeners', () => {
    const values = hashes(7, 500);
    const sketch = sketchOf([...values, ...values.slice(0, 100)]);
    expect(sketch.exact).toBe(true);
    expect(sketch.count()).toBe(500);
    expect(sketch.toBytes().length).toBe(2 + 500 * 8);
    const limit = sketchOf(hashes(8, EXACT_LIMIT));
    expect({ exact: limit.exact, count: limit.count() }).toEqual({ exact: true, count: EXACT_LIMIT });
    const past = sketchOf(hashes(8, EXACT_LIMIT + 1));
    expect(past.exact).toBe(false);
    expect(past.toBytes().length).toBe(2 + 8 * EXACT_LIMIT);
  });

  it('round-trips through bytes, and merging bytes equals merging sketches', () => {
    for (const n of [0, 3, EXACT_LIMIT + 500]) {
      const sketch = sketchOf(hashes(n + 1, n));
      const bytes = sketch.toBytes();
      expect(digest(ReachSketch.fromBytes(bytes).toBytes())).toBe(digest(bytes));
      const a = sketchOf(hashes(99, 300));
      const b = sketchOf(hashes(99, 300));
      a.merge(sketch);
      b.mergeBytes(bytes);
      expect(digest(a.toBytes())).toBe(digest(b.toBytes()));
    }
  });

  it('refuses bytes that are not a sketch', () => {
    expect(() => ReachSketch.fromBytes(Buffer.from([1]))).toThrow(RangeError);
    expect(() => ReachSketch.fromBytes(Buffer.from([1, 17, 0, 0, 0]))).toThrow(/malformed/);
    expect(() => ReachSketch.fromBytes(Buffer.from([2, 17, 0]))).toThrow(/malformed/);
    expect(() => ReachSketch.fromBytes(Buffer.from([1, 14]))).toThrow(/precision/);
  });

  describe('merging (property-based)', () => {
    // Sets drawn from a shared pool, small and past the exact limit, overlapping.
    const pool = hashes(4242, 3 * EXACT_LIMIT);
    const subset = fc.record({ start: fc.nat(2 * EXACT_LIMIT), size: fc.oneof(fc.nat(40), fc.integer({ min: EXACT_LIMIT - 20, max: EXACT_LIMIT + 20 })) });
    const take = ({ start, size }: { start: number; size: number }) => pool.slice(start, start + size);
    const merged = (...sketches: ReachSketch[]) => {
      const out = new ReachSketch();
      for (const s of sketches) out.merge(s);
      return out.toBytes();
    };
    const same = (x: Uint8Array, y: Uint8Array) => expect(digest(x)).toBe(digest(y));

    it('depends only on the union: commutative, associative, idempotent, equal to a sketch of the union', () => {
      fc.assert(
        fc.property(subset, subset, subset, (x, y, z) => {
          const [a, b, c] = [take(x), take(y), take(z)].map((v) => sketchOf(v));
          const union = sketchOf([...take(x), ...take(y), ...take(z)]).toBytes();
          same(merged(a, b, c), union);
          same(merged(c, a, b), union);
          const ab = ReachSketch.fromBytes(merged(a, b));
          const bc = ReachSketch.fromBytes(merged(b, c));
          same(merged(ab, c), merged(a, bc));
          same(merged(a, a), a.toBytes());
          const again = ReachSketch.fromBytes(union);
          again.mergeBytes(union);
          same(again.toBytes(), union);
        }),
        { numRuns: 25, seed: 20261126 },
      );
    });
  });
});
