import fc from 'fast-check';
import { isQuarterHour, monthRange, nextPeriod, offsetMs, offsetSpans, periodOf, previousPeriod, wallMs } from './time-zone';

const ZONES = Intl.supportedValuesOf('timeZone');
const zone = fc.constantFrom(...ZONES, 'UTC', 'Asia/Kathmandu', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Pacific/Chatham', 'America/St_Johns', 'America/Santiago');
const period = fc.record({ year: fc.integer({ min: 2001, max: 2100 }), month: fc.integer({ min: 1, max: 12 }) }).map(({ year, month }) => `${year}-${String(month).padStart(2, '0')}`);

describe('month boundaries in any IANA zone', () => {
  it('start on a quarter-hour at the first local instant of the month, and months tile time with no gap or overlap', () => {
    fc.assert(
      fc.property(zone, period, (tz, p) => {
        const { startMs, endMs } = monthRange(p, tz);
        expect(isQuarterHour(startMs) && isQuarterHour(endMs)).toBe(true);
        expect(endMs).toBeGreaterThan(startMs);
        expect(monthRange(nextPeriod(p), tz).startMs).toBe(endMs);
        expect(monthRange(previousPeriod(p), tz).endMs).toBe(startMs);
        // The first instant in the month, the last one before it in the previous month.
        expect(periodOf(startMs, tz)).toBe(p);
        expect(periodOf(startMs - 1, tz)).toBe(previousPeriod(p));
        expect(periodOf(endMs - 1, tz)).toBe(p);
        // Local midnight of the 1st, unless DST skips it (then the jump, a little after).
        const wall = wallMs(tz, startMs) - Date.UTC(Number(p.slice(0, 4)), Number(p.slice(5)) - 1, 1);
        expect(wall).toBeGreaterThanOrEqual(0);
        expect(wall).toBeLessThanOrEqual(2 * 3600_000);
      }),
      { numRuns: 3000 },
    );
  });

  it('cuts New York at 05:00Z in winter and 04:00Z in summer, Kathmandu at :15 and Kolkata at :30', () => {
    expect(monthRange('2026-03', 'America/New_York')).toEqual({ period: '2026-03', startMs: Date.parse('2026-03-01T05:00:00Z'), endMs: Date.parse('2026-04-01T04:00:00Z') });
    expect(monthRange('2026-11', 'America/New_York').endMs).toBe(Date.parse('2026-12-01T05:00:00Z'));
    expect(monthRange('2026-11', 'Asia/Kathmandu').startMs).toBe(Date.parse('2026-10-31T18:15:00Z'));
    expect(monthRange('2026-11', 'Asia/Kolkata').startMs).toBe(Date.parse('2026-10-31T18:30:00Z'));
    // Chile skips midnight when DST starts: the day (and month) begins at the jump.
    const santiago = monthRange('2022-09', 'America/Santiago');
    expect(new Date(santiago.endMs).toISOString()).toBe('2022-10-01T03:00:00.000Z');
  });

  it('splits a range into spans of constant offset at every DST change', () => {
    fc.assert(
      fc.property(zone, period, (tz, p) => {
        const { startMs, endMs } = monthRange(p, tz);
        const spans = offsetSpans(tz, startMs, endMs);
        expect(spans[0].fromMs).toBe(startMs);
        expect(spans[spans.length - 1].toMs).toBe(endMs);
        for (const [i, s] of spans.entries()) {
          if (i > 0) expect(s.fromMs).toBe(spans[i - 1].toMs);
          expect(offsetMs(tz, s.fromMs)).toBe(s.offsetMs);
          expect(offsetMs(tz, s.toMs - 1000)).toBe(s.offsetMs);
        }
      }),
      { numRuns: 500 },
    );
  });
});
