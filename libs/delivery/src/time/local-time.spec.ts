import { LocalTimeCache, isValidTimeZone, localTime } from './local-time';

describe('localTime', () => {
  it('gives weekday, hour and the local day window', () => {
    const t = localTime('America/New_York', Date.UTC(2026, 10, 25, 3, 0));
    expect(t).toEqual({ weekday: 2, hour: 22, day: '2026-11-24', dayStartMs: Date.UTC(2026, 10, 24, 5), dayEndMs: Date.UTC(2026, 10, 25, 5) });
  });

  it('handles half-hour offsets', () => {
    const t = localTime('Asia/Kolkata', Date.UTC(2026, 10, 25, 20, 0));
    expect(t.day).toBe('2026-11-26');
    expect(t.hour).toBe(1);
    expect(t.dayStartMs).toBe(Date.UTC(2026, 10, 25, 18, 30));
  });

  it('has 23- and 25-hour days at DST changes', () => {
    const spring = localTime('Europe/Paris', Date.UTC(2026, 2, 29, 12));
    expect(spring.dayEndMs - spring.dayStartMs).toBe(23 * 3600_000);
    expect(spring.dayStartMs).toBe(Date.UTC(2026, 2, 28, 23));
    const autumn = localTime('Europe/Paris', Date.UTC(2026, 9, 25, 12));
    expect(autumn.dayEndMs - autumn.dayStartMs).toBe(25 * 3600_000);
  });

  it('starts a day whose midnight does not exist at its first instant', () => {
    // Santiago skips 00:00-01:00 on 2026-09-06.
    const t = localTime('America/Santiago', Date.UTC(2026, 8, 6, 15));
    expect(t.day).toBe('2026-09-06');
    expect(localTime('America/Santiago', t.dayStartMs).day).toBe('2026-09-06');
    expect(localTime('America/Santiago', t.dayStartMs - 1).day).toBe('2026-09-05');
  });

  it('caches per timezone without going stale across an hour', () => {
    const cache = new LocalTimeCache();
    const a = cache.get('UTC', Date.UTC(2026, 0, 1, 9, 59));
    const b = cache.get('UTC', Date.UTC(2026, 0, 1, 10, 0));
    expect([a.hour, b.hour]).toEqual([9, 10]);
    expect(cache.get('UTC', Date.UTC(2026, 0, 1, 10, 5))).toBe(b);
  });

  it('validates timezone names', () => {
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
  });
});
