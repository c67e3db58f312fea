/**
 * `npm run seed`: a demo data set created through the API of a running platform (npm start): four
 * advertisers in different currencies and timezones, each with a live campaign, approved audio
 * creatives and line items priced CPM, CPC or CPCL, paced EVEN or ASAP, with varied targeting.
 *
 * Idempotent: every record is looked up by name first and only what is missing is created (a draft
 * left by an interrupted run is activated). Each advertiser gets one API key, issued once and kept
 * in .seed-keys.json (gitignored) because a key is shown only when it is made; a run reuses the kept
 * key while it still works and issues a new one otherwise (SEED_KEYS_FILE names another file).
 *
 * API_URL (default PUBLIC_BASE_URL or http://127.0.0.1:PORT) and ADMIN_API_KEY come from the
 * environment or .env, with the development defaults.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiCallError, apiCall, listAll, scriptEnv } from './api-client';

type Json = Record<string, any>;

interface CreativeSeed {
  name: string;
  durationSeconds: number;
  file: string;
}

interface LineItemSeed {
  name: string;
  pricingModel: 'CPM' | 'CPC' | 'CPCL';
  rateMicros: number;
  budgetMicros: number;
  dailyBudgetMicros?: number;
  pacing: 'EVEN' | 'ASAP';
  priority: number;
  frequencyCaps: Array<{ maxImpressions: number; periodSeconds: number }>;
  targeting: Json;
}

interface AdvertiserSeed {
  name: string;
  currency: string;
  timezone: string;
  site: string;
  campaign: { name: string; budgetMicros: number };
  creatives: CreativeSeed[];
  lineItems: LineItemSeed[];
}

const DAY = 86_400;
const M = 1_000_000;

/** An audio spot: named `<title> <seconds>s`, served from `<title as a slug>-<seconds>.mp3`. */
function spot(title: string, durationSeconds: number): CreativeSeed {
  const slug = title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  return { name: `${title} ${durationSeconds}s`, durationSeconds, file: `${slug}-${durationSeconds}.mp3` };
}

export const DEMO: AdvertiserSeed[] = [
  {
    name: 'Demo · Nordlicht Kaffee',
    currency: 'EUR',
    timezone: 'Europe/Berlin',
    site: 'nordlicht-kaffee.example',
    campaign: { name: 'Winter roast', budgetMicros: 20_000 * M },
    creatives: [
      spot('Winter roast', 30),
      spot('Winter roast', 15),
    ],
    lineItems: [
      {
        name: 'Morning listeners DE/AT (CPM, even)',
        pricingModel: 'CPM',
        rateMicros: 12 * M,
        budgetMicros: 8_000 * M,
        dailyBudgetMicros: 400 * M,
        pacing: 'EVEN',
        priority: 8,
        frequencyCaps: [{ maxImpressions: 3, periodSeconds: DAY }],
        targeting: { countries: ['DE', 'AT'], genres: ['pop', 'indie', 'jazz'], dayparts: [{ days: [1, 2, 3, 4, 5], startHour: 6, endHour: 11 }] },
      },
      {
        name: 'Completed listens DACH (CPCL, ASAP)',
        pricingModel: 'CPCL',
        rateMicros: 40_000,
        budgetMicros: 4_000 * M,
        pacing: 'ASAP',
        priority: 8,
        frequencyCaps: [{ maxImpressions: 6, periodSeconds: 7 * DAY }],
        targeting: { countries: ['DE', 'AT', 'CH'], platforms: ['ios', 'android', 'speaker'] },
      },
    ],
  },
  {
    name: 'Demo · Maple Audiobooks',
    currency: 'CAD',
    timezone: 'America/Toronto',
    site: 'maple-audiobooks.example',
    campaign: { name: 'First book free', budgetMicros: 15_000 * M },
    creatives: [spot('First book free', 20)],
    lineItems: [
      {
        name: 'Commuters on mobile (CPC, even)',
        pricingModel: 'CPC',
        rateMicros: 1_500_000,
        budgetMicros: 6_000 * M,
        pacing: 'EVEN',
        priority: 8,
        frequencyCaps: [{ maxImpressions: 2, periodSeconds: DAY }],
        targeting: { countries: ['CA', 'US'], platforms: ['ios', 'android', 'car'], ageRanges: ['25-34', '35-44'], dayparts: [{ days: [1, 2, 3, 4, 5], startHour: 7, endHour: 10 }, { days: [1, 2, 3, 4, 5], startHour: 16, endHour: 19 }] },
      },
      {
        name: 'Podcast fans (CPM, ASAP)',
        pricingModel: 'CPM',
        rateMicros: 18 * M,
        budgetMicros: 4_000 * M,
        pacing: 'ASAP',
        priority: 4,
        frequencyCaps: [],
        targeting: { countries: ['CA'], genres: ['podcast', 'talk'], keywords: { any: ['books', 'stories', 'history'] } },
      },
    ],
  },
  {
    name: 'Demo · Sakura Running',
    currency: 'JPY',
    timezone: 'Asia/Tokyo',
    site: 'sakura-running.example',
    campaign: { name: 'Spring marathon', budgetMicros: 3_000_000 * M },
    creatives: [spot('Spring marathon', 30)],
    lineItems: [
      {
        name: 'Workout playlists (CPM, even)',
        pricingModel: 'CPM',
        rateMicros: 900 * M,
        budgetMicros: 1_200_000 * M,
        pacing: 'EVEN',
        priority: 8,
        frequencyCaps: [{ maxImpressions: 4, periodSeconds: DAY }],
        targeting: { countries: ['JP'], genres: ['electronic', 'pop', 'rock'], keywords: { any: ['running', 'workout', 'fitness'], none: ['sleep'] } },
      },
    ],
  },
  {
    name: 'Demo · Acme Insurance',
    currency: 'USD',
    timezone: 'America/New_York',
    site: 'acme-insurance.example',
    campaign: { name: 'Always on', budgetMicros: 50_000 * M },
    creatives: [
      spot('Peace of mind', 30),
      spot('Peace of mind', 60),
    ],
    lineItems: [
      {
        name: 'US adults (CPM, even)',
        pricingModel: 'CPM',
        rateMicros: 8 * M,
        budgetMicros: 20_000 * M,
        dailyBudgetMicros: 700 * M,
        pacing: 'EVEN',
        priority: 8,
        frequencyCaps: [{ maxImpressions: 5, periodSeconds: DAY }],
        targeting: { countries: ['US'], ageRanges: ['25-34', '35-44', '45-54', '55-64'], genders: ['female', 'male', 'non-binary'] },
      },
      {
        name: 'House fill, everyone (CPM, ASAP)',
        pricingModel: 'CPM',
        rateMicros: 1 * M,
        budgetMicros: 5_000 * M,
        pacing: 'ASAP',
        priority: 16,
        frequencyCaps: [],
        targeting: {},
      },
    ],
  },
];

const KEYS_FILE = process.env.SEED_KEYS_FILE ?? join(__dirname, '..', '.seed-keys.json');

interface Tally {
  created: number;
  found: number;
}

async function main(): Promise<void> {
  const { baseUrl, adminKey } = scriptEnv();
  const call = <T = any>(method: string, path: string, body?: unknown) => apiCall<T>(baseUrl, adminKey, method, path, body);
  const tally: Tally = { created: 0, found: 0 };
  const note = (created: boolean, what: string) => {
    tally[created ? 'created' : 'found']++;
    process.stdout.write(`  ${created ? '+ created' : '= exists '} ${what}\n`);
  };
  /**
   * The record named `name` among `existing`, created when missing, then brought live: a creative
   * pending review is approved, a draft or paused campaign or line item is activated.
   */
  const ensure = async (kind: 'creative' | 'campaign' | 'line item', existing: Json[], name: string, create: () => Promise<Json>): Promise<Json> => {
    const found = existing.find((x) => x.name === name);
    let record = found ?? (await create());
    const path = `/v1/${kind === 'line item' ? 'line-items' : `${kind}s`}/${record.id}`;
    if (kind === 'creative' && record.status === 'pending_review') record = await call('POST', `${path}/review`, { decision: 'approved', note: 'demo data' });
    if (kind !== 'creative' && (record.status === 'draft' || record.status === 'paused')) record = await call('POST', `${path}/activate`);
    note(!found, `${kind} ${name} (${record.status})`);
    return record;
  };
  const storedKeys: Record<string, string> = existsSync(KEYS_FILE) ? JSON.parse(readFileSync(KEYS_FILE, 'utf8')) : {};
  const now = Date.now();
  const advertisers = await listAll(baseUrl, adminKey, '/v1/advertisers');
  const printed: Array<{ advertiser: string; id: string; currency: string; timezone: string; key: string }> = [];

  process.stdout.write(`Seeding demo data through ${baseUrl}\n`);
  for (const seed of DEMO) {
    let advertiser = advertisers.find((a) => a.name === seed.name);
    if (!advertiser) advertiser = await call('POST', '/v1/advertisers', { name: seed.name, currency: seed.currency, timezone: seed.timezone });
    note(!advertisers.includes(advertiser), `advertiser ${seed.name} (${seed.currency}, ${seed.timezone})`);

    const creatives = await listAll(baseUrl, adminKey, `/v1/creatives?advertiserId=${advertiser.id}`);
    const creativeIds: string[] = [];
    for (const c of seed.creatives) {
      const creative = await ensure('creative', creatives, c.name, () =>
        call('POST', '/v1/creatives', {
          advertiserId: advertiser.id,
          name: c.name,
          format: 'audio',
          mediaUrl: `https://cdn.${seed.site}/ads/${c.file}`,
          mimeType: 'audio/mpeg',
          durationSeconds: c.durationSeconds,
          clickThroughUrl: `https://www.${seed.site}/?utm_source=audio-demo`,
        }),
      );
      creativeIds.push(creative.id);
    }

    const campaigns = await listAll(baseUrl, adminKey, `/v1/campaigns?advertiserId=${advertiser.id}`);
    const campaign = await ensure('campaign', campaigns, seed.campaign.name, () =>
      call('POST', '/v1/campaigns', {
        advertiserId: advertiser.id,
        name: seed.campaign.name,
        startAt: new Date(now - DAY * 1000).toISOString(),
        endAt: new Date(now + 90 * DAY * 1000).toISOString(),
        budgetMicros: seed.campaign.budgetMicros,
      }),
    );

    const lineItems = await listAll(baseUrl, adminKey, `/v1/line-items?campaignId=${campaign.id}`);
    for (const li of seed.lineItems) await ensure('line item', lineItems, li.name, () => call('POST', '/v1/line-items', { campaignId: campaign.id, ...li, creativeIds }));

    let key: string | undefined = storedKeys[advertiser.id];
    if (key && !(await apiCall(baseUrl, key, 'GET', `/v1/advertisers/${advertiser.id}`).then(() => true, (err) => (err instanceof ApiCallError ? false : Promise.reject(err))))) key = undefined;
    if (!key) {
      key = (await call<{ key: string }>('POST', `/v1/advertisers/${advertiser.id}/api-keys`, { name: 'demo (npm run seed)' })).key;
      storedKeys[advertiser.id] = key;
      writeFileSync(KEYS_FILE, `${JSON.stringify(storedKeys, null, 2)}\n`, { mode: 0o600 });
      note(true, `API key for ${seed.name}`);
    } else {
      note(false, `API key for ${seed.name} (kept in .seed-keys.json)`);
    }
    printed.push({ advertiser: seed.name, id: advertiser.id, currency: seed.currency, timezone: seed.timezone, key });
  }

  process.stdout.write(`\n${tally.created} created, ${tally.found} already there.\n\nAdvertiser API keys (each sees only its own advertiser):\n`);
  const width = Math.max(...printed.map((p) => p.advertiser.length));
  for (const p of printed) process.stdout.write(`  ${p.advertiser.padEnd(width)}  ${p.currency} ${p.timezone.padEnd(16)}  ${p.key}\n`);
  process.stdout.write(`\nTry: curl -H "Authorization: Bearer ${printed[0].key}" ${baseUrl}/v1/campaigns\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`✗ seed failed: ${err.message}\n`);
  process.exit(1);
});
