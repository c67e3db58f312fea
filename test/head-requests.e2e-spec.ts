import Redis from 'ioredis';
import { createServingLineItem } from './support/campaign-fixtures';
import { http } from './support/http';
import { mysql } from './support/measurement-fixtures';
import { waitFor } from './support/processes';
import { markLedgerRestored } from './support/ledger';

/**
 * HEAD requests (link checkers, prefetchers) decide nothing and reserve nothing: ten HEADs of a VAST
 * tag once locked a small line item's whole budget for the 10 minutes reservations live.
 */
const run = Math.random().toString(36).slice(2, 8);
const PLAYER_UA = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36';

describe('HEAD requests', () => {
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    await markLedgerRestored(redis, process.env.E2E_QUEUE_PREFIX!);
  });

  afterAll(() => redis.disconnect());

  it('HEAD /v1/vast answers 200 with the VAST content type and no body, reserving nothing; a GET still fills', async () => {
    const keyword = `head-${run}`;
    // Ten impressions of budget (CPM 1,000,000 µ: 1,000 µ each).
    await createServingLineItem({
      lineItem: { name: `Head ${run}`, pricingModel: 'CPM', rateMicros: 1_000_000, budgetMicros: 10_000, pacing: 'ASAP', priority: 1, frequencyCaps: [], targeting: { countries: ['NZ'], keywords: { all: [keyword] } } },
    });
    const tag = (user: string) => `/v1/vast?placement=between-songs&userId=${user}&platform=android&country=NZ&keywords=${keyword}`;
    const vastAdCount = (xml: string) => (xml.match(/<Ad /g) ?? []).length;
    const first = await waitFor(async () => {
      const res = await http('GET', tag(`first-${run}`), { key: null, headers: { 'user-agent': PLAYER_UA } });
      return vastAdCount(res.text) === 1 ? res : undefined;
    }, 5000, 'the line item to serve', 100);
    expect(first.text).toContain(`<AdTitle>Head ${run}</AdTitle>`);

    for (let i = 0; i < 10; i++) {
      const head = await http('HEAD', tag('link-checker'), { key: null, headers: { 'user-agent': 'LinkChecker/10.0' } });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-type')).toMatch(/^application\/xml/);
      expect(head.text).toBe('');
    }

    // The budget is still there for players: the nine impressions left, no more (a HEAD that reserved
    // would leave fewer; reservations last the 10-minute window here).
    const fills: string[] = [];
    for (let i = 0; i < 11; i++) {
      const res = await http('GET', tag(`player-${run}-${i}`), { key: null, headers: { 'user-agent': PLAYER_UA } });
      if (vastAdCount(res.text) === 1) fills.push(res.text);
    }
    expect(fills).toHaveLength(9);
    const after = { text: fills[0] };
    expect(after.text).toContain(`<AdTitle>Head ${run}</AdTitle>`);

    // A HEAD of a tracking URL stores no beacon either.
    const impression = /<Impression[^>]*><!\[CDATA\[([^\]]+)\]\]>/.exec(after.text)![1];
    const url = new URL(impression);
    expect((await http('HEAD', url.pathname + url.search, { key: null, headers: { 'user-agent': PLAYER_UA } })).status).toBe(204);
    const decisionId = /<AdServingId>([^<]+)<\/AdServingId>/.exec(after.text)![1];
    const conn = await mysql();
    try {
      const [rows] = await conn.query('SELECT id FROM raw_events WHERE decision_id = ?', [decisionId]);
      expect(rows).toEqual([]);
    } finally {
      await conn.end();
    }
  });
});
