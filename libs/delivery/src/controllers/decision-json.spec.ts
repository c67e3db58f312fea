import type { DecisionOutcome, ServedAd } from '../services/decision.types';
import { TrackingTokenCodec } from '../tracking/tracking-token';
import { TrackingUrls } from '../tracking/tracking-urls';
import { decisionResponseJson, toDecisionResponse } from './decision-json';

const codec = new TrackingTokenCodec('a-secret-of-reasonable-length-for-tests', 3600);

function ad(urls: TrackingUrls, o: Partial<ServedAd> & { userId?: string } = {}): ServedAd {
  const token = codec.sign({
    decisionId: '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f',
    advertiserId: 'adv-1',
    campaignId: 'cp-1',
    lineItemId: 'li-1',
    creativeId: 'cr-1',
    userId: o.userId ?? 'listener-1',
    pricingModel: 'CPM',
    rateMicros: 2_500_000,
    country: 'US',
    platform: 'ios',
    issuedAt: 1_790_000_000,
  });
  const tracking = urls.of(token);
  return {
    decisionId: '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f',
    advertiserId: 'adv-1',
    campaignId: 'cp-1',
    lineItemId: 'li-1',
    lineItemName: 'Summer',
    creativeId: 'cr-1',
    format: 'audio',
    mediaUrl: 'https://cdn.example.com/a.mp3',
    mimeType: 'audio/mpeg',
    durationSeconds: 30,
    clickThroughUrl: 'https://brand.example.com/',
    companionImageUrl: null,
    pricingModel: 'CPM',
    rateMicros: 2_500_000,
    currency: 'USD',
    clickUrl: tracking.click,
    tracking,
    token,
    ...o,
  };
}

describe('decision answer as JSON text', () => {
  it('writes each event URL as <base>/t/<event>?d=<token>', () => {
    const urls = new TrackingUrls('https://ads.example.com');
    expect(urls.of('abc.def')).toEqual({
      impression: 'https://ads.example.com/t/impression?d=abc.def',
      start: 'https://ads.example.com/t/start?d=abc.def',
      firstQuartile: 'https://ads.example.com/t/firstQuartile?d=abc.def',
      midpoint: 'https://ads.example.com/t/midpoint?d=abc.def',
      thirdQuartile: 'https://ads.example.com/t/thirdQuartile?d=abc.def',
      complete: 'https://ads.example.com/t/complete?d=abc.def',
      click: 'https://ads.example.com/t/click?d=abc.def',
    });
  });

  it.each([
    ['no fill', 'https://ads.example.com', (_urls: TrackingUrls) => []],
    ['one ad', 'https://ads.example.com', (urls: TrackingUrls) => [ad(urls)]],
    ['a pod of three', 'http://localhost:3000', (urls: TrackingUrls) => [ad(urls), ad(urls, { decisionId: 'd-2', userId: 'listener-é' }), ad(urls, { decisionId: 'd-3', durationSeconds: 15.25 })]],
    [
      'values JSON must escape',
      'https://ads.example.com/"quoted"\\path',
      (urls: TrackingUrls) => [ad(urls, { mediaUrl: 'https://cdn.example.com/a "b"\\c\n\u2028é😀.mp3', mimeType: 'audio/mpeg; x="1"', creativeId: 'cr-"1"', campaignId: '\u0000cp' })],
    ],
  ])('is exactly what JSON.stringify writes: %s', (_name, base, ads) => {
    const urls = new TrackingUrls(base);
    const outcome: DecisionOutcome = { requestId: 'req-"1"', ads: ads(urls) };
    const text = decisionResponseJson(outcome, urls);
    expect(text).toBe(JSON.stringify(toDecisionResponse(outcome, false)));
    expect(JSON.parse(text).decisions.map((d: { tracking: { click: string } }) => d.tracking.click)).toEqual(outcome.ads.map((a) => a.tracking.click));
  });

  it('leaves the explanation out (explain answers go through JSON.stringify)', () => {
    const urls = new TrackingUrls('https://ads.example.com');
    const outcome: DecisionOutcome = { requestId: 'r', ads: [ad(urls)], explanation: [] };
    expect(JSON.parse(decisionResponseJson(outcome, urls))).not.toHaveProperty('explanation');
    expect(toDecisionResponse(outcome, true)).toHaveProperty('explanation', []);
  });
});
