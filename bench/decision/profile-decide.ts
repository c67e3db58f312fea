/**
 * The decision path without HTTP: DecisionService on an in-memory catalog of 1,000 line items (3,000
 * creatives) and the local Redis, 32 decisions in flight. Prints decisions/s; run it under
 * `node --cpu-prof` to see where a decision's own time goes.
 *
 *   N=20000 node -r ts-node/register/transpile-only -r tsconfig-paths/register bench/decision/profile-decide.ts
 */
import { CatalogLineItem, DeliveryCatalog } from '@app/campaigns';
import { ApiConfig, MetricsService, RedisService } from '@app/platform';
import { CatalogSource, DecisionService, EligibilityIndexService, TrackingTokenCodec } from '@app/delivery';
import { DeliveryLedger, SystemClock } from '@app/delivery-ledger';
import { ObservedStateService } from '../../libs/delivery/src/eligibility/observed-state.service';

let seed = 7;
const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
const pick = <T>(l: readonly T[]) => l[Math.floor(random() * l.length)];
const some = <T>(l: readonly T[], n: number) => [...new Set(Array.from({ length: n }, () => pick(l)))];
const COUNTRIES = ['US', 'GB', 'DE', 'FR', 'CA', 'AU', 'BR', 'JP', 'IN', 'MX'];
const PLATFORMS = ['ios', 'android', 'desktop', 'web', 'speaker', 'tv', 'car'] as const;
const GENRES = ['pop', 'rock', 'jazz', 'hiphop', 'classical', 'news', 'comedy', 'sports'];
const KEYWORDS = ['running', 'cooking', 'travel', 'finance', 'gaming', 'fitness', 'summer', 'cars', 'tech', 'family'];

const now = Date.now();
const items: CatalogLineItem[] = Array.from({ length: 1000 }, (_, i) => ({
  id: `li-${i}`, name: `li ${i}`, campaignId: `cp-${i % 100}`, advertiserId: `a-${i % 20}`, timezone: pick(['UTC', 'America/New_York', 'Asia/Kolkata']), currency: 'USD',
  pricingModel: pick(['CPM', 'CPM', 'CPC'] as const), rateMicros: 1_000_000 + Math.floor(random() * 9_000_000), budgetMicros: 1e13, dailyBudgetMicros: random() < 0.3 ? 1e12 : null, campaignBudgetMicros: 1e15,
  pacing: random() < 0.5 ? 'EVEN' : 'ASAP', priority: pick([4, 8, 8, 16]), startAt: now - 86_400_000, endAt: now + 86_400_000 * 30,
  frequencyCaps: random() < 0.5 ? [{ maxImpressions: 20, periodSeconds: 3600 }] : [],
  targeting: { countries: some(COUNTRIES, 3), ...(random() < 0.5 ? { platforms: some(PLATFORMS, 4) } : {}), ...(random() < 0.3 ? { genres: some(GENRES, 3) } : {}) },
  creatives: [0, 1, 2].map((c) => ({ id: `cr-${i}-${c}`, format: 'audio' as const, mediaUrl: `https://cdn.example.com/${i}-${c}.mp3`, mimeType: 'audio/mpeg', durationSeconds: 30, clickThroughUrl: 'https://x.example.com', companionImageUrl: null, weight: 1, approvedVersion: 1 })),
  version: 1,
}));

class Mem extends CatalogSource {
  async load(): Promise<DeliveryCatalog> { return { loadedAt: now, lineItems: items }; }
  async version() { return 1; }
}

async function main() {
  const config = Object.assign(new ApiConfig(), { QUEUE_PREFIX: 'prof_dlv', ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}) });
  const redis = new RedisService(config);
  await new Promise((r) => redis.client.once('ready', r));
  const clock = new SystemClock();
  const counters = new DeliveryLedger(redis, clock);
  await counters.whenReady();
  await counters.markRestored();
  const index = new EligibilityIndexService(new Mem(), redis, clock);
  await index.reload();
  const observed = new ObservedStateService(counters, index);
  await observed.refresh();
  const service = new DecisionService(index, observed, counters, new TrackingTokenCodec('x'.repeat(32), 3600), clock, new MetricsService(), config);
  const N = Number(process.env.N ?? 5000);
  const conc = 32;
  let done = 0;
  const started = process.hrtime.bigint();
  let filled = 0;
  await Promise.all(Array.from({ length: conc }, async () => {
    while (done < N) {
      const i = done++;
      const out = await service.decide({ placement: 'p', slots: random() < 0.8 ? 1 : 3, userId: `u${process.env.USERS ? i % Number(process.env.USERS) : i}`, platform: pick(PLATFORMS), country: pick(COUNTRIES), genre: pick(GENRES), keywords: some(KEYWORDS, 2), formats: ['audio'] }, { requestId: `r${i}` });
      if (out.ads.length) filled++;
    }
  }));
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  console.log(`${N} decisions in ${ms.toFixed(0)} ms: ${(N / ms * 1000).toFixed(0)}/s, fill ${filled}, pool sizes ${index.snapshot!.candidates(['audio'], 'US', 'ios').length}`);
  let cursor = '0';
  do { const [next, keys] = await redis.client.scan(cursor, 'MATCH', 'prof_dlv:*', 'COUNT', 1000); if (keys.length) await redis.client.del(...keys); cursor = next; } while (cursor !== '0');
  counters.onApplicationShutdown();
  await redis.onApplicationShutdown();
}
main();
