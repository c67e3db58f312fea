import { ApiConfig, loadConfig } from '@app/platform';
import { MAX_CLICKS_PER_USER_MINUTE, MAX_IMPRESSIONS_PER_USER_MINUTE, RateCandidate, SourceRateLimits, ipRateKey, ipUserAgentRateKey, limitOfKey, overLimit, rateKey, rateVerdicts, sourceRateLimits } from './rate-limiter.service';

describe('per-user rate limits', () => {
  it('keys impressions and clicks per user and minute of event time, and nothing else', () => {
    expect(rateKey({ userId: 'u1', event: 'impression', occurredAt: 120_500 })).toBe('ivt:rate:impression:2:u1');
    expect(rateKey({ userId: 'u1', event: 'click', occurredAt: 59_999 })).toBe('ivt:rate:click:0:u1');
    expect(rateKey({ userId: 'u1', event: 'midpoint', occurredAt: 0 })).toBeNull();
  });

  it('flags only the events beyond the limit, counting what earlier batches added', () => {
    const keys = ['a', 'b', 'a', null, 'a'];
    // Earlier batches already counted 1 for "a"; this batch adds 3 -> total 4. Limit 3: the third "a" of this batch is the 4th.
    const totals = new Map([['a', 4], ['b', 1]]);
    expect(overLimit(keys, totals, () => 3)).toEqual([false, false, false, false, true]);
  });

  it('lets exactly the limit through within a fresh minute', () => {
    const n = MAX_IMPRESSIONS_PER_USER_MINUTE + 2;
    const keys = Array.from({ length: n }, () => 'k');
    const flags = overLimit(keys, new Map([['k', n]]), () => MAX_IMPRESSIONS_PER_USER_MINUTE);
    expect(flags.filter(Boolean)).toHaveLength(2);
    expect(flags.slice(0, MAX_IMPRESSIONS_PER_USER_MINUTE).every((f) => !f)).toBe(true);
  });
});

describe('per-IP and per-(IP, User-Agent) rate limits', () => {
  const limits: SourceRateLimits = { perIp: { impression: 1000, click: 50 }, perIpAndUserAgent: { impression: 300, click: 10 } };
  const click = (n: number, over: Partial<RateCandidate> = {}): RateCandidate => ({ userId: `listener-${n}`, event: 'click', occurredAt: 125_000, ipHash: '42', uaHash: `ua-${n}`, ...over });

  /** Counts a batch as Redis would (fresh minute) and returns the verdicts. */
  function verdicts(candidates: RateCandidate[], l: SourceRateLimits = limits) {
    const keysByRule = { user: candidates.map(rateKey), ip: candidates.map((c) => ipRateKey(c, l)), ipUa: candidates.map((c) => ipUserAgentRateKey(c, l)) };
    const totals = new Map<string, number>();
    for (const k of [...keysByRule.user, ...keysByRule.ip, ...keysByRule.ipUa]) if (k) totals.set(k, (totals.get(k) ?? 0) + 1);
    return rateVerdicts(keysByRule, totals, (key) => limitOfKey(key, l));
  }

  it('keys by event, minute of event time and the hashed IP (and User-Agent, "-" when none)', () => {
    expect(ipRateKey(click(1), limits)).toBe('ivt:ip:click:2:42');
    expect(ipUserAgentRateKey(click(1), limits)).toBe('ivt:ipua:click:2:42:ua-1');
    expect(ipUserAgentRateKey(click(1, { uaHash: null }), limits)).toBe('ivt:ipua:click:2:42:-');
    expect(ipRateKey(click(1, { event: 'midpoint' }), limits)).toBeNull();
    expect(ipRateKey(click(1, { ipHash: null }), limits)).toBeNull();
    expect(ipUserAgentRateKey(click(1, { ipHash: undefined }), limits)).toBeNull();
  });

  it('finds each key\'s limit from its rule and event', () => {
    expect(limitOfKey('ivt:rate:click:2:u', limits)).toBe(MAX_CLICKS_PER_USER_MINUTE);
    expect(limitOfKey('ivt:rate:impression:2:u', limits)).toBe(MAX_IMPRESSIONS_PER_USER_MINUTE);
    expect(limitOfKey('ivt:ip:click:2:42', limits)).toBe(50);
    expect(limitOfKey('ivt:ipua:impression:2:42:ua', limits)).toBe(300);
  });

  it('200 clicks of one IP with distinct listener ids and User-Agents: all but the per-IP limit are ip_rate_limit', () => {
    const result = verdicts(Array.from({ length: 200 }, (_, n) => click(n)));
    expect(result.slice(0, 50).every((r) => r === null)).toBe(true);
    expect(result.slice(50).every((r) => r === 'ip_rate_limit')).toBe(true);
  });

  it('clicks of one IP and one User-Agent stop at the tighter (IP, User-Agent) limit; another User-Agent still gets through', () => {
    const sameUa = Array.from({ length: 30 }, (_, n) => click(n, { uaHash: 'player' }));
    const otherUa = Array.from({ length: 5 }, (_, n) => click(100 + n, { uaHash: 'other' }));
    const result = verdicts([...sameUa, ...otherUa]);
    expect(result.filter((r) => r === null)).toHaveLength(10 + 5);
    expect(result.slice(10, 30).every((r) => r === 'ip_rate_limit')).toBe(true);
    expect(result.slice(30).every((r) => r === null)).toBe(true);
  });

  it('other IPs and other minutes count apart', () => {
    const candidates = [
      ...Array.from({ length: 50 }, (_, n) => click(n)),
      click(60, { ipHash: '43' }),
      click(61, { occurredAt: 185_000 }),
      click(62),
    ];
    expect(verdicts(candidates).slice(50)).toEqual([null, null, 'ip_rate_limit']);
  });

  it('labels a listener over its own limit rate_limit, whatever its IP does', () => {
    const candidates = Array.from({ length: MAX_CLICKS_PER_USER_MINUTE + 1 }, (_, n) => click(n, { userId: 'same', ipHash: `ip-${n}` }));
    expect(verdicts(candidates).at(-1)).toBe('rate_limit');
    expect(verdicts(candidates).filter(Boolean)).toHaveLength(1);
  });

  it('a 0 limit turns its rule off', () => {
    const off: SourceRateLimits = { perIp: { impression: 1000, click: 0 }, perIpAndUserAgent: { impression: 300, click: 0 } };
    expect(ipRateKey(click(1), off)).toBeNull();
    expect(ipUserAgentRateKey(click(1), off)).toBeNull();
    expect(verdicts(Array.from({ length: 200 }, (_, n) => click(n, { uaHash: 'player' })), off).every((r) => r === null)).toBe(true);
  });

  it('reads its limits from validated configuration (IVT_MAX_*), with the defaults of .env.example', () => {
    expect(sourceRateLimits(loadConfig(ApiConfig, {}))).toEqual({ perIp: { impression: 2000, click: 60 }, perIpAndUserAgent: { impression: 600, click: 20 } });
    expect(sourceRateLimits(loadConfig(ApiConfig, { IVT_MAX_CLICKS_PER_IP_MINUTE: '5', IVT_MAX_CLICKS_PER_IP_UA_MINUTE: '0' })).perIp.click).toBe(5);
    expect(() => loadConfig(ApiConfig, { IVT_MAX_CLICKS_PER_IP_MINUTE: '-1' })).toThrow(/IVT_MAX_CLICKS_PER_IP_MINUTE/);
    expect(() => loadConfig(ApiConfig, { IVT_MAX_IMPRESSIONS_PER_IP_UA_MINUTE: 'many' })).toThrow(/IVT_MAX_IMPRESSIONS_PER_IP_UA_MINUTE/);
  });
});
