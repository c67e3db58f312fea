import fc from 'fast-check';
import { DAY_MS, RAW_EVENTS, REACH_HOURLY, dayNumber, eventDay, isoDay, lastExpiredDay, parseIsoDay, partitionBySql, partitionDay, partitionName } from './day-partitions';

const DEC_6 = Date.parse('2026-12-06T00:00:00Z') / DAY_MS;

describe('day partitions', () => {
  it('names a day pYYYYMMDD and reads the day back; other names hold no day', () => {
    expect(partitionName(DEC_6)).toBe('p20261206');
    expect(partitionDay('p20261206')).toBe(DEC_6);
    expect(partitionDay('pold')).toBeNull();
    expect(partitionDay('pmax')).toBeNull();
    expect(partitionDay('p20261332')).toBeNull();
    fc.assert(fc.property(fc.integer({ min: 0, max: 80_000 }), (day) => partitionDay(partitionName(day)) === day));
  });

  it('parses only real calendar days', () => {
    expect(parseIsoDay('2026-12-06')).toBe(DEC_6);
    expect(isoDay(DEC_6)).toBe('2026-12-06');
    for (const bad of ['2026-02-30', '2026-13-01', '2026-1-01', '20261206', '2026-12-06T00:00:00Z', '']) expect(parseIsoDay(bad)).toBeNull();
  });

  it('bounds each day partition by the next day, with pold below and pmax above', () => {
    expect(partitionBySql(RAW_EVENTS, DEC_6, DEC_6 + 1)).toBe(
      "PARTITION BY RANGE COLUMNS(event_day) (\n  PARTITION pold VALUES LESS THAN ('2026-12-06'),\n  PARTITION p20261206 VALUES LESS THAN ('2026-12-07'),\n  PARTITION p20261207 VALUES LESS THAN ('2026-12-08'),\n  PARTITION pmax VALUES LESS THAN (MAXVALUE)\n)",
    );
    expect(partitionBySql(REACH_HOURLY, DEC_6, DEC_6)).toContain("PARTITION p20261206 VALUES LESS THAN ('2026-12-07 00:00:00')");
  });

  it("gives every event of a decision the decision's UTC day while its token may still be valid", () => {
    const issuedAt = Date.parse('2026-12-06T23:59:59Z') / 1000;
    // The impression a second later (the next day) and a beacon two days later share the decision's day.
    expect(eventDay(issuedAt, Date.parse('2026-12-07T00:00:00Z'), 35)).toBe(DEC_6);
    expect(eventDay(issuedAt, Date.parse('2026-12-09T00:00:00Z'), 35)).toBe(DEC_6);
    expect(eventDay(issuedAt, Date.parse('2027-01-09T23:00:00Z'), 35)).toBe(DEC_6);
  });

  it('never gives an event a day that retention may already drop (two days of margin)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1_700_000_000, max: 1_900_000_000 }), fc.integer({ min: 0, max: 400 * DAY_MS }), fc.integer({ min: 3, max: 3650 }), (issuedAt, lateMs, days) => {
        const receivedAt = issuedAt * 1000 + lateMs;
        const day = eventDay(issuedAt, receivedAt, days);
        expect(day).toBeGreaterThanOrEqual(Math.floor(issuedAt / 86_400));
        expect(day).toBeLessThanOrEqual(dayNumber(receivedAt));
        expect(day - lastExpiredDay(receivedAt, days)).toBeGreaterThanOrEqual(2);
        // Within the token's possible lifetime (retention - 2 days), the decision's own day.
        if (lateMs <= (days - 2) * DAY_MS) expect(day).toBe(Math.floor(issuedAt / 86_400));
      }),
    );
  });
});
