import { addDays, closesAtMs, dayStartMs, daysBetween, isOpen, lastClosedDay } from './export-days';

const TTL = 172_800;
const at = (iso: string) => Date.parse(iso);

describe('export days', () => {
  it('accepts real calendar days only', () => {
    expect(dayStartMs('2026-02-28')).toBe(at('2026-02-28T00:00:00Z'));
    expect(dayStartMs('2028-02-29')).toBe(at('2028-02-29T00:00:00Z'));
    for (const bad of ['2026-02-29', '2026-13-01', '2026-00-10', '2026-1-01', '20260101', '2026-01-01T00:00:00Z', ' 2026-01-01', '']) expect(dayStartMs(bad)).toBeNull();
  });

  it('closes a day one token lifetime and the grace hour after its end', () => {
    expect(closesAtMs('2026-11-20', TTL)).toBe(at('2026-11-23T01:00:00Z'));
    expect(isOpen('2026-11-20', at('2026-11-23T00:59:59.999Z'), TTL)).toBe(true);
    expect(isOpen('2026-11-20', at('2026-11-23T01:00:00Z'), TTL)).toBe(false);
    expect(isOpen('2026-11-23', at('2026-11-23T12:00:00Z'), TTL)).toBe(true);
  });

  it('finds the latest closed day', () => {
    expect(lastClosedDay(at('2026-11-23T01:00:00Z'), TTL)).toBe('2026-11-20');
    expect(lastClosedDay(at('2026-11-23T00:59:00Z'), TTL)).toBe('2026-11-19');
    expect(lastClosedDay(at('2026-11-23T12:00:00Z'), 60)).toBe('2026-11-22');
  });

  it('walks days across months and years', () => {
    expect(daysBetween('2026-12-30', '2027-01-02')).toEqual(['2026-12-30', '2026-12-31', '2027-01-01', '2027-01-02']);
    expect(daysBetween('2026-01-02', '2026-01-01')).toEqual([]);
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
  });
});
