import type { Connection } from 'mysql2/promise';
import { approveCreative, createAdvertiser, createCampaign, createCreative, createLineItem, creativeBody, expectStatus, lineItemBody } from './support/campaign-fixtures';
import { HttpResult, http } from './support/http';
import { BROWSER_UA, mysql } from './support/measurement-fixtures';
import { waitFor } from './support/processes';
import { validateVast } from './support/vast-schema';

/** Issue 15, defects 6 (hostile JSON) and 7 (control characters), against the real API process. */

const unique = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
const MEGABYTE_DEEP = `${'['.repeat(500_000)}${']'.repeat(500_000)}`;
const MEGABYTE_WIDE = `[${Array(349_000).fill('{}').join(',')}]`;
// Within 2,000 items per array, over 10,000 values in all: what a per-structure limit alone would let through.
const MEGABYTE_SPREAD = `{"events":[${Array(170).fill(`[${Array(1000).fill('0').join(',')}]`).join(',')}]}`;

async function timed(method: string, path: string, body: string, contentType = 'application/json'): Promise<HttpResult & { ms: number }> {
  const started = performance.now();
  const res = await http(method, path, { body, headers: { 'content-type': contentType } });
  return { ...res, ms: performance.now() - started };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const DECISION = { placement: 'between-songs', user: { id: 'listener-hostile' }, device: { platform: 'ios' }, geo: { country: 'US' } };

describe('hostile JSON (issue 15, defect 6)', () => {
  it.each([
    ['POST', '/v1/decisions'],
    ['POST', '/v1/events'],
    ['POST', '/v1/campaigns'],
    ['PATCH', '/v1/line-items/0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f'],
  ])('%s %s refuses a megabyte of nesting, of empty objects, or of values spread wide with 400 naming the limit, within 50 ms', async (method, path) => {
    const cases: Array<[string, RegExp]> = [
      [MEGABYTE_DEEP, /nested deeper than 16 levels/],
      [MEGABYTE_WIDE, /array or object of more than 2000 items/],
      [MEGABYTE_SPREAD, /more than 10000 values/],
    ];
    for (const [body, message] of cases) {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await timed(method, path, body);
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.stringMatching(message), requestId: expect.any(String) });
        times.push(res.ms);
      }
      // Before the guard: 500 after about a second. The fastest of five shows what the API takes; the
      // median allows for other suites sharing this API and this machine's two cores.
      expect(Math.min(...times)).toBeLessThan(50);
      expect(median(times)).toBeLessThan(250);
    }
  });

  it('holds text/plain JSON (navigator.sendBeacon) to the same limits, and still takes a full 1,000-event batch', async () => {
    const deep = await timed('POST', '/v1/events', MEGABYTE_DEEP, 'text/plain;charset=UTF-8');
    expect(deep.status).toBe(400);
    expect(deep.body.message).toMatch(/nested deeper than 16 levels/);
    const batch = JSON.stringify({ events: Array.from({ length: 1000 }, () => ({ event: 'impression', token: 'not-a-token' })) });
    for (const contentType of ['application/json', 'text/plain']) {
      const res = await timed('POST', '/v1/events', batch, contentType);
      expect(res.status).toBe(200);
      expect(res.body.results).toHaveLength(1000);
    }
  });

  it('keeps decisions fast while hostile bodies keep arriving', async () => {
    let done = false;
    const statuses: number[] = [];
    // Two clients sending hostile bodies back to back for as long as the decisions below take.
    const hostile = [0, 1].map(async (client) => {
      for (let i = 0; !done || statuses.length < 10; i++) {
        statuses.push((await timed('POST', client ? '/v1/events' : '/v1/decisions', i % 2 ? MEGABYTE_WIDE : MEGABYTE_DEEP)).status);
      }
    });
    const latencies: number[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await timed('POST', '/v1/decisions', JSON.stringify({ ...DECISION, user: { id: `listener-${i}` } }));
      expect(res.status).toBe(200);
      latencies.push(res.ms);
    }
    done = true;
    await Promise.all(hostile);
    // Before the guard each such body held the event loop for about a second (decision p99 1.1 s).
    expect(median(latencies)).toBeLessThan(100);
    expect(Math.max(...latencies)).toBeLessThan(1000);
    expect(new Set(statuses)).toEqual(new Set([400]));
  });
});

describe('control characters (issue 15, defect 7)', () => {
  // Each was accepted by the URL validator (names took any control character).
  const CONTROLS = ['\u0000', '\u0001', '\u0008', '\u001b', '\u001f', '\u007f', '\u0085', '\ufffe', '\uffff', '\t', '\n'];
  const hex = (c: string) => `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  let db: Connection;
  let advertiserId: string;
  let campaignId: string;

  beforeAll(async () => {
    db = await mysql();
    advertiserId = (await createAdvertiser()).id;
    campaignId = (await createCampaign(advertiserId)).id;
  });

  afterAll(async () => {
    await db.end();
  });

  function expectRefused(res: HttpResult, field: string, c: string): void {
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', requestId: expect.any(String) });
    expect(res.body.message).toContain(`${field}: must not contain control characters (${hex(c)}`);
  }

  it.each(CONTROLS.map((c) => [hex(c), c]))('refuses %s in names and URLs of advertisers, campaigns, creatives and line items, writing nothing', async (_, c) => {
    const marker = unique('ctl');
    const name = `${marker} ${c} name`;
    expectRefused(await http('POST', '/v1/advertisers', { body: { name } }), 'name', c);
    expectRefused(await http('POST', '/v1/campaigns', { body: { advertiserId, name, startAt: '2026-01-01T00:00:00Z', endAt: '2027-01-01T00:00:00Z' } }), 'name', c);
    expectRefused(await http('POST', '/v1/line-items', { body: lineItemBody(campaignId, { name }) }), 'name', c);
    expectRefused(await http('POST', '/v1/line-items', { body: lineItemBody(campaignId, { targeting: { keywords: { any: ['ok', `k${c}`] } } }) }), 'targeting.keywords.any[1]', c);
    expectRefused(await http('POST', '/v1/creatives', { body: creativeBody(advertiserId, { name }) }), 'name', c);
    expectRefused(await http('POST', '/v1/creatives', { body: creativeBody(advertiserId, { clickThroughUrl: `https://example.com/${marker}${c}x` }) }), 'clickThroughUrl', c);
    expectRefused(await http('POST', '/v1/creatives', { body: creativeBody(advertiserId, { mediaUrl: `https://cdn.example.com/${marker}${c}.mp3` }) }), 'mediaUrl', c);
    expectRefused(await http('PATCH', `/v1/campaigns/${campaignId}`, { body: { name } }), 'name', c);
    for (const table of ['advertisers', 'campaigns', 'line_items', 'creatives']) {
      const [[{ n }]] = (await db.query(`SELECT COUNT(*) AS n FROM ${table} WHERE name LIKE ?`, [`${marker}%`])) as unknown as [[{ n: number }]];
      expect([table, Number(n)]).toEqual([table, 0]);
    }
    const [[{ n }]] = (await db.query('SELECT COUNT(*) AS n FROM creatives WHERE click_through_url LIKE ? OR media_url LIKE ?', [`%${marker}%`, `%${marker}%`])) as unknown as [[{ n: number }]];
    expect(Number(n)).toBe(0);
  });

  it('refuses them in decision fields, in the VAST query and in the decision query, naming the field', async () => {
    for (const c of CONTROLS) {
      expectRefused(await http('POST', '/v1/decisions', { key: null, body: { ...DECISION, user: { id: `listener${c}` } } }), 'user.id', c);
      expectRefused(await http('POST', '/v1/decisions', { key: null, body: { ...DECISION, context: { keywords: ['a', `b${c}`] } } }), 'context.keywords[1]', c);
      const escaped = encodeURIComponent(c);
      expectRefused(await http('GET', `/v1/vast?placement=p&userId=u${escaped}&platform=ios&country=US`, { key: null }), 'userId', c);
      expectRefused(await http('GET', `/v1/vast?placement=p&userId=u&platform=ios&country=US&cb=${escaped}`, { key: null }), 'cb', c);
      expectRefused(await http('POST', `/v1/decisions?explain=${escaped}`, { key: null, body: DECISION }), 'explain', c);
    }
  });

  it('answers VAST that stays valid against the XSD, for every ad of a pod, when stored rows hold control characters', async () => {
    const keyword = unique('pod');
    const country = 'PN';
    const setups = [];
    for (const who of ['Old rows', 'Other advertiser']) {
      const advertiser = await createAdvertiser({ name: `${who} ${keyword}` });
      const campaign = await createCampaign(advertiser.id);
      const creative = await createCreative(advertiser.id, { name: `${who} spot` });
      await approveCreative(creative.id);
      const lineItem = await createLineItem(campaign.id, { name: `${who} line`, priority: 1, frequencyCaps: [], creativeIds: [creative.id], targeting: { countries: [country], keywords: { any: [keyword] } } });
      expectStatus(await http('POST', `/v1/campaigns/${campaign.id}/activate`), 200);
      expectStatus(await http('POST', `/v1/line-items/${lineItem.id}/activate`), 200);
      setups.push({ campaign, creative, lineItem });
    }
    // Rows written before the API refused control characters: straight into MySQL, as an old release left them.
    const dirty = 'Old\u0000\u0001\u0008\u000b\u001b\u001f\u007f\u0085\ufffe\uffff rows';
    const [old] = setups;
    await db.query('UPDATE line_items SET name = ?, updated_at = NOW(3) WHERE id = ?', [`${dirty} line`, old.lineItem.id]);
    await db.query('UPDATE campaigns SET name = ?, updated_at = NOW(3) WHERE id = ?', [`${dirty} campaign`, old.campaign.id]);
    await db.query('UPDATE creatives SET name = ?, media_url = ?, updated_at = NOW(3) WHERE id = ?', [`${dirty} spot`, `https://cdn.example.com/${dirty}.mp3`, old.creative.id]);

    const vastPath = () => `/v1/vast?placement=between-songs&userId=${unique('listener')}&platform=ios&country=${country}&keywords=${keyword}&slots=2`;
    // The catalog reaches the decision path through the eligibility index: wait until it has the old rows.
    const xml = await waitFor(
      async () => {
        const res = await http('GET', vastPath(), { key: null });
        const both = res.text.includes(`<Creative id="${old.creative.id}"`) && res.text.includes('Other advertiser line');
        return res.status === 200 && both && !res.text.includes('<AdTitle>Old rows line') && res.text;
      },
      10_000,
      'a pod with both line items, the old rows reloaded',
    );
    expect(xml.match(/<Ad /g)).toHaveLength(2);
    expect(await validateVast(xml)).toEqual({ valid: true, errors: [] });
    expect(xml).toContain('<AdTitle>Other advertiser line</AdTitle>');
  });

  it('redirects a click to a non-ASCII URL with a percent-encoded Location (UTF-8, punycode host)', async () => {
    const keyword = unique('click');
    const country = 'GS';
    const advertiser = await createAdvertiser();
    const campaign = await createCampaign(advertiser.id);
    const creative = await createCreative(advertiser.id, { clickThroughUrl: 'https://bücher.example/straße/€?q=été&r=日本#à' });
    await approveCreative(creative.id);
    const lineItem = await createLineItem(campaign.id, { priority: 1, frequencyCaps: [], creativeIds: [creative.id], targeting: { countries: [country], keywords: { any: [keyword] } } });
    expectStatus(await http('POST', `/v1/campaigns/${campaign.id}/activate`), 200);
    expectStatus(await http('POST', `/v1/line-items/${lineItem.id}/activate`), 200);
    const served = await waitFor(
      async () => {
        const res = await http('POST', '/v1/decisions', { key: null, body: { ...DECISION, user: { id: unique('listener') }, geo: { country }, context: { keywords: [keyword] } } });
        return res.body.decisions?.find((d: { lineItemId: string }) => d.lineItemId === lineItem.id);
      },
      10_000,
      'the line item to serve',
    );
    const headers = { 'user-agent': BROWSER_UA };
    expect((await fetch(served.tracking.impression, { headers })).status).toBe(204);
    const click = await fetch(served.clickUrl, { headers, redirect: 'manual' });
    expect(click.status).toBe(302);
    expect(click.headers.get('location')).toBe('https://xn--bcher-kva.example/stra%C3%9Fe/%E2%82%AC?q=%C3%A9t%C3%A9&r=%E6%97%A5%E6%9C%AC#%C3%A0');
  });
});
