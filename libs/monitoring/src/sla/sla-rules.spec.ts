import { ApiConfig, loadConfig } from '@app/platform';
import { isClear, stateOf, worseOf } from './sla-rules';
import { SlaSpec, declaredSlas } from './sla.definitions';

const freshness: SlaSpec = { id: 'f', kind: 'freshness', subject: 's', description: '', unit: 's', target: 60, warn: 15, windowSeconds: 0, direction: 'above' };
const ratio: SlaSpec = { id: 'r', kind: 'success_ratio', subject: 's', description: '', unit: 'ratio', target: 0.9, warn: 0.95, windowSeconds: 900, direction: 'below' };

describe('SLA rules', () => {
  it('judges values above (or below) the target as breached, past the warning level as warning', () => {
    expect([0, 15, 16, 60, 61].map((v) => stateOf(freshness, v))).toEqual(['ok', 'ok', 'warning', 'warning', 'breached']);
    expect([1, 0.95, 0.94, 0.9, 0.89].map((v) => stateOf(ratio, v))).toEqual(['ok', 'ok', 'warning', 'warning', 'breached']);
    expect(stateOf(freshness, null)).toBe('unknown');
  });

  it('starts resolving only back at the warning level (hysteresis), not just under the target', () => {
    expect(isClear(freshness, 59)).toBe(false);
    expect(isClear(freshness, 15)).toBe(true);
    expect(isClear(ratio, 0.92)).toBe(false);
    expect(isClear(ratio, 0.96)).toBe(true);
    expect(isClear({ ...freshness, warn: undefined }, 49)).toBe(false);
    expect(isClear({ ...freshness, warn: undefined }, 48)).toBe(true);
    expect(worseOf(freshness, 3, 5)).toBe(5);
    expect(worseOf(ratio, 0.5, 0.8)).toBe(0.5);
  });

  it('declares every SLA kind, with the defaults of the issue, overridable by id and validated', () => {
    const slas = declaredSlas(loadConfig(ApiConfig, {}));
    expect(new Set(slas.map((s) => s.kind))).toEqual(new Set(['queue_wait', 'run_time', 'success_ratio', 'freshness', 'deadline', 'delivery_health', 'reconciliation', 'verification']));
    expect(slas.find((s) => s.id === 'aggregation.freshness')).toMatchObject({ target: 60, warn: 15 });
    expect(slas.find((s) => s.id === 'delivery_health')).toMatchObject({ target: 40, warn: 20, windowSeconds: 14400 });
    const overridden = declaredSlas(loadConfig(ApiConfig, { SLA_OVERRIDES: '{"delivery_health":{"warn":10},"queue_wait.measurement.aggregate":{"target":5}}' }));
    expect(overridden.find((s) => s.id === 'delivery_health')).toMatchObject({ target: 40, warn: 10 });
    expect(overridden.find((s) => s.id === 'queue_wait.measurement.aggregate')).toMatchObject({ target: 5 });
    expect(() => declaredSlas(loadConfig(ApiConfig, { SLA_OVERRIDES: '{"nope":{"target":1}}' }))).toThrow(/unknown SLA id\(s\) nope/);
    expect(() => loadConfig(ApiConfig, { SLA_OVERRIDES: '{"delivery_health":{"target":"high"}}' })).toThrow(/SLA_OVERRIDES/);
    expect(() => loadConfig(ApiConfig, { SLA_OVERRIDES: 'not json' })).toThrow(/SLA_OVERRIDES/);
  });
});
