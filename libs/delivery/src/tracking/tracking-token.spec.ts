import fc from 'fast-check';
import { TrackingClaims, TrackingTokenCodec } from './tracking-token';

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
});
