import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { HmacSha256, TrackingClaims, TrackingTokenCodec } from './tracking-token';

const claims: TrackingClaims = {
  decisionId: '01a214a4-bf0c-7567-b411-9b1f4e5030c1',
  advertiserId: '01a214a4-0000-7000-8000-000000000001',
  campaignId: '01a214a4-0000-7000-8000-000000000002',
  lineItemId: '01a214a4-0000-7000-8000-000000000003',
  creativeId: '01a214a4-0000-7000-8000-000000000004',
  userId: 'listener-42',
  pricingModel: 'CPM',
  rateMicros: 2_500_000,
  country: 'US',
  platform: 'ios',
  issuedAt: 1_800_000_000,
};

describe('TrackingTokenCodec', () => {
  const codec = new TrackingTokenCodec('s'.repeat(32), 3600);

  it('round-trips the claims', () => {
    expect(codec.verify(codec.sign(claims), claims.issuedAt + 10)).toEqual({ ok: true, claims });
  });

  it('expires after the TTL but still decodes the claims', () => {
    expect(codec.verify(codec.sign(claims), claims.issuedAt + 3601)).toEqual({ ok: false, reason: 'expired', claims });
  });

  it('rejects a token signed with another secret', () => {
    const other = new TrackingTokenCodec('t'.repeat(32), 3600);
    expect(codec.verify(other.sign(claims), claims.issuedAt)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('rejects garbage', () => {
    for (const token of ['', 'abc', 'a.b.c', '.x', 'x.', 'é.é']) expect(codec.verify(token, claims.issuedAt).ok).toBe(false);
  });

  it('detects any single-character change to a token', () => {
    const token = codec.sign(claims);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
    fc.assert(
      fc.property(fc.nat(token.length - 1), fc.constantFrom(...alphabet), (index, char) => {
        fc.pre(token[index] !== char);
        const tampered = token.slice(0, index) + char + token.slice(index + 1);
        expect(codec.verify(tampered, claims.issuedAt).ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('detects a character replaced by one outside ASCII, even one whose low byte is the original', () => {
    const token = codec.sign(claims);
    for (const index of [0, 5, token.indexOf('.') - 1, token.length - 1]) {
      const code = token.charCodeAt(index);
      for (const char of [String.fromCharCode(code + 0x100), String.fromCharCode(code + 0xff00), 'é', '\u{1F600}']) {
        expect(codec.verify(token.slice(0, index) + char + token.slice(index + 1), claims.issuedAt).ok).toBe(false);
      }
    }
  });

  const signBody = (secret: string, body: string) => `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;

  const wire = [1, claims.decisionId, claims.advertiserId, claims.campaignId, claims.lineItemId, claims.creativeId, claims.userId, claims.pricingModel, claims.rateMicros, claims.country, claims.platform, claims.issuedAt];
  const v1 = signBody('s'.repeat(32), Buffer.from(JSON.stringify(wire)).toString('base64url'));

  it('issues compact tokens: claims in half the length of the JSON encoding (version 1)', () => {
    const token = codec.sign(claims);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(token.split('.')[0].length).toBeLessThan(v1.split('.')[0].length * 0.55);
  });

  it('still verifies version 1 (JSON) tokens issued before version 2', () => {
    expect(codec.verify(v1, claims.issuedAt + 10)).toEqual({ ok: true, claims });
  });

  it('round-trips any ids, user ids, prices and times, UUIDs or not', () => {
    fc.assert(
      fc.property(
        fc.record({
          decisionId: fc.uuid(),
          advertiserId: fc.oneof(fc.uuid(), fc.string({ maxLength: 40 })),
          campaignId: fc.oneof(fc.uuid(), fc.string({ maxLength: 40 })),
          lineItemId: fc.oneof(fc.uuid(), fc.string({ maxLength: 40 })),
          creativeId: fc.oneof(fc.uuid(), fc.constant('CR-1')),
          userId: fc.string({ minLength: 1, maxLength: 128, unit: 'binary' }),
          pricingModel: fc.constantFrom('CPM' as const, 'CPC' as const, 'CPCL' as const),
          rateMicros: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
          country: fc.constantFrom('US', 'ZZ', 'DE'),
          platform: fc.constantFrom('ios', 'unknown', 'car'),
          issuedAt: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        }),
        (c) => {
          expect(codec.verify(codec.sign(c), c.issuedAt)).toEqual({ ok: true, claims: c });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('calls a correctly signed but truncated, extended or unknown body malformed', () => {
    const body = Buffer.from(codec.sign(claims).split('.')[0], 'base64url');
    const secret = 's'.repeat(32);
    for (const bytes of [body.subarray(0, body.length - 1), body.subarray(0, 20), Buffer.concat([body, Buffer.from([0])]), Buffer.from([7, 1, 2, 3])]) {
      expect(codec.verify(signBody(secret, bytes.toString('base64url')), claims.issuedAt)).toEqual({ ok: false, reason: 'malformed' });
    }
  });
});

describe('TrackingTokenCodec: the creative\'s approved version (version 3)', () => {
  const codec = new TrackingTokenCodec('s'.repeat(32), 3600);
  const secret = 's'.repeat(32);
  const signBody = (body: Buffer) => `${body.toString('base64url')}.${createHmac('sha256', secret).update(body.toString('base64url')).digest('base64url')}`;

  it('round-trips the approved version, one byte more than version 2 below 128', () => {
    const withVersion = { ...claims, creativeVersion: 3 };
    const token = codec.sign(withVersion);
    expect(codec.verify(token, claims.issuedAt + 10)).toEqual({ ok: true, claims: withVersion });
    expect(Buffer.from(token.split('.')[0], 'base64url').length).toBe(Buffer.from(codec.sign(claims).split('.')[0], 'base64url').length + 1);
  });

  it('round-trips any version from 1 to 2^32 - 1', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 32 - 1 }), (creativeVersion) => {
        expect(codec.verify(codec.sign({ ...claims, creativeVersion }), claims.issuedAt)).toEqual({ ok: true, claims: { ...claims, creativeVersion } });
      }),
      { numRuns: 500 },
    );
    for (const creativeVersion of [127, 128, 16_383, 16_384, 2 ** 32 - 1]) {
      expect(codec.verify(codec.sign({ ...claims, creativeVersion }), claims.issuedAt)).toEqual({ ok: true, claims: { ...claims, creativeVersion } });
    }
  });

  it('refuses to sign a version that is not a positive 32-bit integer', () => {
    for (const creativeVersion of [0, -1, 1.5, 2 ** 32, Number.NaN]) expect(() => codec.sign({ ...claims, creativeVersion })).toThrow(RangeError);
  });

  it('still verifies version 2 tokens (no creative version), which decode without one', () => {
    const v2 = codec.sign(claims);
    expect(Buffer.from(v2.split('.')[0], 'base64url')[0]).toBe(2);
    expect(codec.verify(v2, claims.issuedAt).claims).not.toHaveProperty('creativeVersion');
  });

  it('calls a correctly signed version 3 body with a missing, overlong, zero or trailing varint malformed', () => {
    const body = Buffer.from(codec.sign({ ...claims, creativeVersion: 200 }).split('.')[0], 'base64url');
    const head = body.subarray(0, body.length - 2);
    for (const bytes of [
      head,
      Buffer.concat([head, Buffer.from([0x80])]),
      Buffer.concat([head, Buffer.from([0])]),
      Buffer.concat([head, Buffer.from([0x81, 0])]),
      Buffer.concat([head, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01])]),
      Buffer.concat([body, Buffer.from([1])]),
    ]) {
      expect(codec.verify(signBody(bytes), claims.issuedAt)).toEqual({ ok: false, reason: 'malformed' });
    }
  });
});

describe('HmacSha256', () => {
  it('gives the bytes of createHmac for any key and any text, ASCII or not, short or long', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 150, unit: 'binary' }), fc.array(fc.string({ maxLength: 2000, unit: 'binary' }), { minLength: 1, maxLength: 4 }), (secret, messages) => {
        const mac = new HmacSha256(secret);
        // One instance, several messages: the reused buffers carry nothing from one MAC to the next.
        for (const message of messages) {
          const expected = createHmac('sha256', secret).update(message).digest();
          expect(mac.bytes(message).equals(expected)).toBe(true);
          expect(mac.base64url(message)).toBe(expected.toString('base64url'));
        }
      }),
      { numRuns: 300 },
    );
  });
});
