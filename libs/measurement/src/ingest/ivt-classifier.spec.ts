import { TrackingClaims, TrackingTokenCodec } from '@app/delivery';
import { createHash } from 'node:crypto';
import { GENERIC_CLIENT_PATTERNS, claimsAreWellFormed, classifyBeacon, userHashOf } from './ivt-classifier';

const SECRET = 'unit-test-secret-0123456789abcdef0123';
const codec = new TrackingTokenCodec(SECRET, 3600);
const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
const claims = (over: Partial<TrackingClaims> = {}): TrackingClaims => ({
  decisionId: '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f',
  advertiserId: '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e50',
  campaignId: '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e51',
  lineItemId: '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e52',
  creativeId: '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e53',
  userId: 'listener-1',
  pricingModel: 'CPM',
  rateMicros: 2_500_000,
  country: 'US',
  platform: 'ios',
  issuedAt: NOW / 1000 - 60,
  ...over,
});
/** The stored hashes, computed here from their definition (first 8 bytes of SHA-256, as an unsigned decimal). */
const sha64 = (text: string) => BigInt(`0x${createHash('sha256').update(text).digest('hex').slice(0, 16)}`).toString();
const CHROME = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

function classify(token: string, extra: { userAgent?: string; occurredAt?: number } = {}) {
  return classifyBeacon({ event: 'impression', token, ip: '203.0.113.9', ...extra }, codec.verify(token, NOW / 1000), NOW, SECRET);
}

describe('IVT classifier (per beacon)', () => {
  it('accepts a fresh signed token from a real browser, with hashed user, ip and UA', () => {
    const result = classify(codec.sign(claims()), { userAgent: CHROME });
    expect(result.reason).toBeUndefined();
    expect(result.claims?.decisionId).toBe(claims().decisionId);
    expect(result.userHash).toBe(sha64('user:listener-1'));
    expect(userHashOf('listener-1')).toBe(sha64('user:listener-1'));
    expect(result.ipHash).toBe(sha64(`${SECRET}ip:203.0.113.9`));
    expect(result.uaHash).toBe(sha64(`${SECRET}ua:${CHROME}`));
  });

  it('rejects a tampered token as bad_signature and a garbled one as malformed, keeping no claims', () => {
    const token = codec.sign(claims());
    const tampered = `${token.slice(0, -2)}${token.endsWith('A') ? 'B' : 'A'}A`;
    const bad = classify(tampered);
    expect(bad).toMatchObject({ reason: 'bad_signature', userHash: null });
    expect(bad.claims).toBeUndefined();
    expect(bad.tokenSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(classify('not-a-token').reason).toBe('malformed');
    expect(classify(new TrackingTokenCodec('another-secret-0123456789abcdef0123', 3600).sign(claims())).reason).toBe('bad_signature');
  });

  it('keeps the claims of an expired token and labels it expired', () => {
    const result = classify(codec.sign(claims({ issuedAt: NOW / 1000 - 7200 })));
    expect(result.reason).toBe('expired');
    expect(result.claims?.lineItemId).toBe(claims().lineItemId);
  });

  it('labels known bots by User-Agent, and not real browsers or a missing UA', () => {
    const token = codec.sign(claims());
    expect(classify(token, { userAgent: 'Googlebot/2.1 (+http://www.google.com/bot.html)' }).reason).toBe('bot');
    expect(classify(token, { userAgent: 'curl/8.5.0' }).reason).toBe('bot');
    expect(classify(token, { userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0 Safari/537.36' }).reason).toBe('bot');
    // Crawling and API-testing tools that only isbot's catch-alls (left out) named.
    for (const userAgent of ['Scrapy/2.11.0 (+https://scrapy.org)', 'Scrapy/2.11', 'HTTPie/3.2.2', 'insomnia/8.0.0', 'Puppeteer/21.0']) expect(classify(token, { userAgent }).reason).toBe('bot');
    // Player HTTP stacks and server-side ad insertion are not bots.
    for (const userAgent of ['okhttp/4.12.0', 'node', 'undici', 'axios/1.7.2', 'Go-http-client/1.1', 'AppleCoreMedia/1.0.0.21A329 (iPhone; U; CPU OS 17_0 like Mac OS X)']) {
      expect(classify(token, { userAgent }).reason).toBeUndefined();
    }
    expect(classify(token, { userAgent: CHROME }).reason).toBeUndefined();
    expect(classify(token).reason).toBeUndefined();
    // Verdicts are remembered per User-Agent: asked again, the same answers; very long ones are not
    // remembered (bounded memory) but still classified.
    expect(classify(token, { userAgent: 'curl/8.5.0' }).reason).toBe('bot');
    expect(classify(token, { userAgent: CHROME }).reason).toBeUndefined();
    const longBot = `Googlebot/2.1 (+http://www.google.com/bot.html) ${'x'.repeat(600)}`;
    expect(classify(token, { userAgent: longBot }).reason).toBe('bot');
    expect(classify(token, { userAgent: longBot }).uaHash).toBe(sha64(`${SECRET}ua:${longBot}`));
  });

  it('applies the bot verdict to every event type, not impressions only', () => {
    const token = codec.sign(claims({ pricingModel: 'CPC' }));
    for (const event of ['impression', 'start', 'firstQuartile', 'midpoint', 'thirdQuartile', 'complete', 'click'] as const) {
      expect(classifyBeacon({ event, token, userAgent: 'Googlebot/2.1 (+http://www.google.com/bot.html)' }, codec.verify(token, NOW / 1000), NOW, SECRET).reason).toBe('bot');
      expect(classifyBeacon({ event, token, userAgent: CHROME }, codec.verify(token, NOW / 1000), NOW, SECRET).reason).toBeUndefined();
    }
  });

  it('clamps the reported time to [issue time, receive time]', () => {
    const token = codec.sign(claims());
    expect(classify(token).occurredAt).toBe(NOW);
    expect(classify(token, { occurredAt: NOW - 10_000 }).occurredAt).toBe(NOW - 10_000);
    expect(classify(token, { occurredAt: NOW + 3_600_000 }).occurredAt).toBe(NOW);
    expect(classify(token, { occurredAt: NOW - 3_600_000 }).occurredAt).toBe(NOW - 60_000);
  });

  it('treats signed claims of the wrong shape as malformed (one bad row must not fail a batch)', () => {
    expect(classify(codec.sign(claims({ country: 'usa' }))).reason).toBe('malformed');
    expect(classify(codec.sign(claims({ userId: 'x'.repeat(129) }))).reason).toBe('malformed');
    expect(classify(codec.sign(claims({ decisionId: 'nope' }))).reason).toBe('malformed');
    expect(classify(codec.sign(claims({ lineItemId: '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5' }))).reason).toBe('malformed');
    expect(classify(codec.sign(claims({ creativeId: '0192f1c4x8d2e-7c1a-9a55-3f1b2c3d4e53' }))).reason).toBe('malformed');
  });

  it('accepts UUIDs in upper case too (only the lowercase ones this platform writes skip the regular expression)', () => {
    expect(classify(codec.sign(claims({ campaignId: '0192F1C4-8D2E-7C1A-9A55-3F1B2C3D4E51' })), { userAgent: CHROME }).reason).toBeUndefined();
  });
});

describe('bot list', () => {
  it('leaves out only patterns that isbot really has (a renamed one would silently come back)', () => {
    const { list } = require('isbot') as { list: string[] };
    for (const pattern of GENERIC_CLIENT_PATTERNS) expect(list).toContain(pattern);
  });
});

describe('claims shape (a token can be signed with any claims by a leaked secret or an old build)', () => {
  const bad = (over: Record<string, unknown>) => claimsAreWellFormed({ ...claims(), ...over } as unknown as TrackingClaims);

  it('accepts the shape this platform signs, including a rate of 0 and a 128-character listener id', () => {
    expect(claimsAreWellFormed(claims())).toBe(true);
    expect(bad({ rateMicros: 0 })).toBe(true);
    expect(bad({ userId: 'x'.repeat(128) })).toBe(true);
    expect(bad({ pricingModel: 'CPCL' })).toBe(true);
  });

  it('refuses every field out of shape', () => {
    for (const over of [
      { userId: '' },
      { userId: 'x'.repeat(129) },
      { userId: 42 },
      { pricingModel: 'CPX' },
      { pricingModel: '' },
      { rateMicros: -1 },
      { rateMicros: 1.5 },
      { country: 'USA' },
      { country: 'XUS' },
      { country: 'us' },
      { country: 12 },
      { platform: 'IOS' },
      { platform: 'ios1' },
      { platform: '1ios' },
      { platform: 'x'.repeat(17) },
      { platform: 7 },
      { issuedAt: 1.5 },
    ]) {
      expect([over, bad(over)]).toEqual([over, false]);
    }
  });

  it('keeps the codec\'s reason for a token that did not verify, whatever claims came with it', () => {
    const verdict = { ok: false, reason: 'bad_signature', claims: claims() } as unknown as ReturnType<TrackingTokenCodec['verify']>;
    expect(classifyBeacon({ event: 'impression', token: 'x' }, verdict, NOW, SECRET)).toMatchObject({ reason: 'bad_signature', userHash: null });
    const shapeless = { ok: true, claims: { ...claims(), country: 'usa' } } as unknown as ReturnType<TrackingTokenCodec['verify']>;
    expect(classifyBeacon({ event: 'impression', token: 'x' }, shapeless, NOW, SECRET).reason).toBe('malformed');
  });
});
