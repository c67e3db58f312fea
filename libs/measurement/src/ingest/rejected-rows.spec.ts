import { RejectedBeacon, rejectedRows } from './rejected-rows';

const HOUR = Date.UTC(2026, 10, 25, 10);
const beacon = (over: Partial<RejectedBeacon> = {}): RejectedBeacon => ({ event: 'impression', reason: 'malformed', receivedAt: HOUR + 1000, tokenSha256: 'f'.repeat(64), ipHash: null, uaHash: null, ...over });

describe('rejectedRows', () => {
  it('counts every beacon per hour, reason and event', () => {
    const { counts } = rejectedRows(
      [beacon(), beacon(), beacon({ event: 'click' }), beacon({ reason: 'bad_signature' }), beacon({ receivedAt: HOUR + 3_600_000 })],
      20,
    );
    expect(counts).toEqual([
      [new Date(HOUR), 'bad_signature', 'impression', 1],
      [new Date(HOUR), 'malformed', 'click', 1],
      [new Date(HOUR), 'malformed', 'impression', 2],
      [new Date(HOUR + 3_600_000), 'malformed', 'impression', 1],
    ]);
  });

  it('keeps at most samplesPerHour candidates per reason and hour, each in a distinct slot', () => {
    const { counts, samples } = rejectedRows(Array.from({ length: 1000 }, () => beacon()).concat([beacon({ reason: 'bad_signature' })]), 5);
    expect(counts.reduce((sum, c) => sum + c[3], 0)).toBe(1001);
    const malformed = samples.filter((s) => s[1] === 'malformed');
    expect(malformed).toHaveLength(5);
    expect(new Set(malformed.map((s) => s[7])).size).toBe(5);
    expect(malformed.every((s) => (s[6] as Date).getTime() === HOUR && (s[7] as number) < 5)).toBe(true);
    expect(samples.filter((s) => s[1] === 'bad_signature')).toHaveLength(1);
  });

  it('keeps no sample when samplesPerHour is 0', () => {
    expect(rejectedRows([beacon()], 0).samples).toEqual([]);
  });
});
