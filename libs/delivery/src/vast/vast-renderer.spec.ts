import type { ServedAd } from '../services/decision.types';
import { EMPTY_VAST, duration, renderVast } from './vast-renderer';
import { validateVast } from '../../../../test/support/vast-schema';

function ad(o: Partial<ServedAd> = {}): ServedAd {
  const t = (e: string) => `https://ads.example.com/t/${e}?d=abc.def`;
  return {
    decisionId: '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f',
    advertiserId: 'adv',
    campaignId: 'cp',
    lineItemId: 'li',
    lineItemName: 'Summer <Sale> & "more"',
    creativeId: 'cr-1',
    format: 'audio',
    mediaUrl: 'https://cdn.example.com/a.mp3?x=1&y=2',
    mimeType: 'audio/mpeg',
    durationSeconds: 30,
    clickThroughUrl: 'https://brand.example.com/?utm=a&b=c',
    companionImageUrl: null,
    pricingModel: 'CPM',
    rateMicros: 2_500_000,
    currency: 'USD',
    clickUrl: t('click'),
    tracking: {
      impression: t('impression'),
      start: t('start'),
      firstQuartile: t('firstQuartile'),
      midpoint: t('midpoint'),
      thirdQuartile: t('thirdQuartile'),
      complete: t('complete'),
      click: t('click'),
    },
    token: 'abc.def',
    ...o,
  };
}

describe('VAST 4.2 renderer', () => {
  it('renders a valid audio ad with impression, quartiles, clicks, AdServingId and UniversalAdId', async () => {
    const xml = renderVast([ad()]);
    expect(await validateVast(xml)).toEqual({ valid: true, errors: [] });
    expect(xml).toContain('xmlns="http://www.iab.com/VAST"');
    expect(xml).toContain('adType="audio"');
    expect(xml).not.toContain('sequence=');
    for (const event of ['start', 'firstQuartile', 'midpoint', 'thirdQuartile', 'complete']) {
      expect(xml).toContain(`<Tracking event="${event}"><![CDATA[https://ads.example.com/t/${event}?d=abc.def]]></Tracking>`);
    }
    expect(xml).toContain('<Impression id="0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f"><![CDATA[https://ads.example.com/t/impression?d=abc.def]]></Impression>');
    expect(xml).toContain('<ClickThrough><![CDATA[https://brand.example.com/?utm=a&b=c]]></ClickThrough>');
    expect(xml).toContain('<ClickTracking id="0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f"><![CDATA[https://ads.example.com/t/click?d=abc.def]]></ClickTracking>');
    expect(xml).toContain('<AdServingId>0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f</AdServingId>');
    expect(xml).toContain('<UniversalAdId idRegistry="adplatform">cr-1</UniversalAdId>');
    expect(xml).toContain('<AdTitle>Summer &lt;Sale&gt; &amp; "more"</AdTitle>');
    expect(xml).toContain('<Pricing model="CPM" currency="USD">2.5</Pricing>');
    expect(xml).toContain('<Duration>00:00:30</Duration>');
    expect(xml).toContain('width="0" height="0"');
  });

  it('renders a pod with sequence numbers, video ads and no Pricing for CPCL', async () => {
    const xml = renderVast([ad(), ad({ decisionId: 'd-2', format: 'video', mimeType: 'video/mp4', pricingModel: 'CPCL', durationSeconds: 15.5 }), ad({ decisionId: 'd-3', pricingModel: 'CPC' })]);
    expect(await validateVast(xml)).toEqual({ valid: true, errors: [] });
    expect(xml.match(/<Ad /g)).toHaveLength(3);
    expect(xml).toContain('<Ad id="d-2" sequence="2" adType="video">');
    expect(xml).toContain('<Ad id="d-3" sequence="3" adType="audio">');
    expect(xml.match(/<Pricing /g)).toHaveLength(2);
    expect(xml).toContain('<Duration>00:00:15.500</Duration>');
  });

  it('writes only characters XML 1.0 allows, whatever stored rows hold: a pod stays valid for every ad', async () => {
    const controls = '\u0000\u0001\u0008\u000b\u001b\u001f\u007f\u0085\ufffe\uffff\ud800';
    const dirty = ad({ lineItemName: `Bad${controls}name`, creativeId: `cr${controls}`, mimeType: 'audio/mpeg\u0000', mediaUrl: `https://cdn.example.com/a${controls}.mp3`, clickThroughUrl: `https://brand.example.com/\u0000` });
    const xml = renderVast([dirty, ad({ decisionId: '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e60', lineItemName: 'Other advertiser' })]);
    expect(await validateVast(xml)).toEqual({ valid: true, errors: [] });
    expect(xml).toContain('<AdTitle>Bad\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffdname</AdTitle>');
    expect(xml).toContain('<![CDATA[https://cdn.example.com/a%00%01%08%0B%1B%1F%7F%C2%85%EF%BF%BE%EF%BF%BF%EF%BF%BD.mp3]]>');
    expect(xml).toContain('<AdTitle>Other advertiser</AdTitle>');
  });

  it('answers an empty VAST on no fill', async () => {
    expect(renderVast([])).toBe(EMPTY_VAST);
    expect(await validateVast(EMPTY_VAST)).toEqual({ valid: true, errors: [] });
  });

  it('the validator rejects what the schema does not allow', async () => {
    const broken = renderVast([ad()]).replace(/<AdServingId>.*<\/AdServingId>\n/, '');
    const result = await validateVast(broken);
    expect(result.valid).toBe(false);
    expect(result.errors.join(' ')).toContain('AdTitle');
    expect((await validateVast(renderVast([ad()]).replace('event="start"', 'event="begin"'))).valid).toBe(false);
  });

  it('formats durations as xs:time', () => {
    expect(duration(5)).toBe('00:00:05');
    expect(duration(3725.25)).toBe('01:02:05.250');
  });
});
