import { codec } from './support/measurement-fixtures';
import { createServingLineItem, expectStatus } from './support/campaign-fixtures';
import { http } from './support/http';
import { waitFor } from './support/processes';

/**
 * A click leads to the click-through URL approved for the ad that was served: editing the creative
 * (back to pending_review), rejecting the edit or approving it never changes where an ad already
 * served leads. Each test targets its own keyword at priority 1 (the e2e database is shared).
 */
const run = Math.random().toString(36).slice(2, 8);
const PLAYER_UA = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36';

function request(keyword: string) {
  return { placement: 'between-songs', user: { id: `listener-${Math.random().toString(36).slice(2)}` }, device: { platform: 'android' }, geo: { country: 'NZ' }, context: { keywords: [keyword] } };
}

interface Ad {
  decisionId: string;
  creativeId: string;
  mediaUrl: string;
  clickUrl: string;
  tracking: { impression: string };
}

/** The next ad of this keyword's line item whose media is `mediaUrl` (the catalog reloads within a second or two of a change). */
async function servedAd(keyword: string, mediaUrl: string): Promise<Ad> {
  return waitFor(
    async () => {
      const res = expectStatus(await http('POST', '/v1/decisions', { body: request(keyword), key: null }), 200);
      const ad = res.body.decisions[0] as Ad | undefined;
      return ad?.mediaUrl === mediaUrl ? ad : undefined;
    },
    5000,
    `an ad with media ${mediaUrl}`,
    100,
  );
}

const get = (url: string) => http('GET', new URL(url).pathname + new URL(url).search, { key: null, headers: { 'user-agent': PLAYER_UA } });

async function clickTarget(ad: Ad): Promise<string | null> {
  const click = await get(ad.clickUrl);
  expect(click.status).toBe(302);
  return click.headers.get('location');
}

describe('clicks lead to the approved click-through URL of the ad that was served', () => {
  it('after a PATCH, after the edit is rejected, and after a later approval (old ads keep the old URL)', async () => {
    const keyword = `acu-${run}-1`;
    const { creative } = await createServingLineItem({
      lineItem: { pacing: 'ASAP', priority: 1, frequencyCaps: [], targeting: { countries: ['NZ'], keywords: { all: [keyword] } } },
      creative: { clickThroughUrl: 'https://brand.example.com/approved', mediaUrl: 'https://cdn.example.com/approved.mp3' },
    });
    const old = await servedAd(keyword, 'https://cdn.example.com/approved.mp3');
    expect((await get(old.tracking.impression)).status).toBe(204);

    // The advertiser edits the click-through URL: the creative goes back to review.
    const patched = expectStatus(await http('PATCH', `/v1/creatives/${creative.id}`, { body: { clickThroughUrl: 'https://evil.example.com/unreviewed', mediaUrl: 'https://cdn.example.com/edited.mp3' } }), 200);
    expect(patched.body.status).toBe('pending_review');
    expect(await clickTarget(old)).toBe('https://brand.example.com/approved');

    // The admin rejects the edit: the ad already served still leads where it was approved to.
    expectStatus(await http('POST', `/v1/creatives/${creative.id}/review`, { body: { decision: 'rejected', note: 'landing page not allowed' } }), 200);
    expect(await clickTarget(old)).toBe('https://brand.example.com/approved');

    // The admin approves the (current) edit: new ads lead to the new URL, the old ad still to the old one.
    expectStatus(await http('POST', `/v1/creatives/${creative.id}/review`, { body: { decision: 'approved' } }), 200);
    const fresh = await servedAd(keyword, 'https://cdn.example.com/edited.mp3');
    expect((await get(fresh.tracking.impression)).status).toBe(204);
    expect(await clickTarget(fresh)).toBe('https://evil.example.com/unreviewed');
    expect(await clickTarget(old)).toBe('https://brand.example.com/approved');
    expect(codec.verify(new URL(old.clickUrl).searchParams.get('d')!).claims?.creativeVersion).toBe(1);
    expect(codec.verify(new URL(fresh.clickUrl).searchParams.get('d')!).claims?.creativeVersion).toBe(2);
  });

  it('a token issued before versions were carried leads to the latest approved URL, never to an unreviewed edit', async () => {
    const keyword = `acu-${run}-2`;
    const { creative } = await createServingLineItem({
      lineItem: { pacing: 'ASAP', priority: 1, frequencyCaps: [], targeting: { countries: ['NZ'], keywords: { all: [keyword] } } },
      creative: { clickThroughUrl: 'https://brand.example.com/v1', mediaUrl: 'https://cdn.example.com/v1.mp3' },
    });
    const ad = await servedAd(keyword, 'https://cdn.example.com/v1.mp3');
    const { creativeVersion, ...claims } = codec.verify(new URL(ad.clickUrl).searchParams.get('d')!).claims!;
    expect(creativeVersion).toBe(1);
    // The same claims as a version 2 token (no creative version), as issued before this release.
    const legacy = codec.sign({ ...claims, decisionId: crypto.randomUUID() });
    expect((await get(`http://x/t/impression?d=${legacy}`)).status).toBe(204);
    expectStatus(await http('PATCH', `/v1/creatives/${creative.id}`, { body: { clickThroughUrl: 'https://evil.example.com/unreviewed' } }), 200);
    const click = await get(`http://x/t/click?d=${legacy}`);
    expect(click.status).toBe(302);
    expect(click.headers.get('location')).toBe('https://brand.example.com/v1');
  });
});
