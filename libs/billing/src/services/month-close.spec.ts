import { hoursPastDeadline } from './month-close.service';

describe('month close deadline', () => {
  const at = (iso: string) => Date.parse(iso);

  it('is hours past the set hour of day 2 in each advertiser\'s own zone, for the latest undrafted month', () => {
    // Kathmandu (+05:45): 06:00 on 2 December is 00:15 UTC. New York (EST, -05:00): 11:00 UTC.
    const due = [
      { id: 'a', period: '2026-11', timezone: 'Asia/Kathmandu' },
      { id: 'b', period: '2026-11', timezone: 'America/New_York' },
    ];
    expect(hoursPastDeadline(due, 6, at('2026-12-02T00:00:00Z'))).toBe(0);
    expect(hoursPastDeadline(due, 6, at('2026-12-02T03:15:00Z'))).toBe(3);
    expect(hoursPastDeadline(due.slice(1), 6, at('2026-12-02T03:15:00Z'))).toBe(0);
    expect(hoursPastDeadline(due.slice(1), 6, at('2026-12-02T12:30:00Z'))).toBe(1.5);
  });

  it('follows daylight saving time: 06:00 on 2 April in New York is 10:00 UTC (EDT)', () => {
    expect(hoursPastDeadline([{ id: 'b', period: '2026-03', timezone: 'America/New_York' }], 6, at('2026-04-02T11:00:00Z'))).toBe(1);
  });

  it('is 0 when nothing is undrafted', () => {
    expect(hoursPastDeadline([], 6, at('2026-12-20T00:00:00Z'))).toBe(0);
  });
});
