import { deliveryHealth } from './delivery-health.rules';

const HOUR = 3_600_000;
const spec = { target: 40, warn: 20, windowSeconds: 4 * 3600 };
const start = new Date('2026-03-01T00:00:00Z');
const end = new Date(start.getTime() + 100 * HOUR);
const at = (hours: number) => new Date(start.getTime() + hours * HOUR);
const item = (over: Partial<Parameters<typeof deliveryHealth>[0]> = {}) => ({
  budgetMicros: 1_000_000,
  startAt: start,
  endAt: end,
  spentMicros: 500_000,
  recentSpendMicros: 20_000,
  deliveredRecently: true,
  ...over,
});

describe('deliveryHealth', () => {
  it('is on track when spend follows the flight', () => {
    expect(deliveryHealth(item(), spec, at(50))).toMatchObject({ state: 'on_track', severity: 'ok', behindPoints: 0 });
  });

  it('warns at 20 points behind and is critical at 40', () => {
    expect(deliveryHealth(item({ spentMicros: 290_000, recentSpendMicros: 5_000 }), spec, at(50))).toMatchObject({ state: 'behind', severity: 'warning' });
    expect(deliveryHealth(item({ spentMicros: 310_000, recentSpendMicros: 5_000 }), spec, at(50)).state).toBe('on_track');
    expect(deliveryHealth(item({ spentMicros: 100_000, recentSpendMicros: 5_000 }), spec, at(50))).toMatchObject({ state: 'critical', severity: 'critical' });
  });

  it('is stalled when active with no delivery for the window, but not in its first hours', () => {
    expect(deliveryHealth(item({ deliveredRecently: false, recentSpendMicros: 0 }), spec, at(50)).state).toBe('stalled');
    expect(deliveryHealth(item({ deliveredRecently: false, recentSpendMicros: 0, spentMicros: 0 }), spec, at(3)).state).toBe('on_track');
  });

  it('says when a budget runs out early at the recent rate', () => {
    // 500k left at 100k per 4 h: 20 h from hour 50, long before the end at 100.
    const health = deliveryHealth(item({ recentSpendMicros: 100_000 }), spec, at(50));
    expect(health.state).toBe('exhausting_early');
    expect(health.exhaustsAt?.toISOString()).toBe(at(70).toISOString());
    expect(deliveryHealth(item({ recentSpendMicros: 30_000 }), spec, at(50)).state).toBe('on_track');
  });
});
