/**
 * `npm run simulate`: a population of listeners driving a running platform as players do, then the
 * delivery it expects beside what the platform reports, line item by line item.
 *
 * Listeners come from a weighted population (countries, weighted by the local hour: fewer at night;
 * platforms with their players' User-Agents; genres, ages, genders, keywords). Between songs a
 * listener asks for an ad, as VAST (GET /v1/vast, most of them) or JSON (POST /v1/decisions,
 * server-side insertion), from one of the API replicas given with --url, and plays it: impression and
 * start at once, the quartiles as the ad plays (--speed compresses time), a skip now and then, a click
 * now and then; a share listens offline and sends its beacons late in one POST /v1/events batch; a
 * few beacons are fired twice (retries, counted once); a share of the traffic is bots (crawler and
 * script User-Agents), whose events the platform must count as invalid.
 *
 * At the end it waits for aggregation (the report's dataThrough), compares its own tally with
 * GET /v1/reports for every line item it was served (against a baseline taken at the start), prints
 * both, and exits 1 when they disagree: with --minutes N it is a soak test.
 *
 * Only the given URLs are contacted (tracking URLs are replayed against the replica that served the
 * ad), at most --rate ad requests a second: it is meant for a laptop, not a load test (see bench/).
 */
import { apiCall, listAll, scriptEnv } from './api-client';

type Json = Record<string, any>;

interface Options {
  urls: string[];
  adminKey: string;
  seconds: number;
  listeners: number;
  rate: number;
  speed: number;
  botShare: number;
  offlineShare: number;
  settleSeconds: number;
  seed: number;
}

const HELP = `npm run simulate -- [options]
  --url URL            an API replica (repeat for several; default API_URL or http://127.0.0.1:PORT)
  --seconds N          how long listeners keep asking for ads (default 60)
  --minutes N          the same in minutes: a soak test (exit 1 when the report disagrees)
  --listeners N        listeners at once (default 30)
  --rate N             at most N ad requests a second, all replicas together (default 10, max 100)
  --speed N            play ads N times faster than real time (default 1)
  --bots F             share of listeners that are bots (default 0.1)
  --offline F          share of listeners that send their beacons late, in batches (default 0.15)
  --settle-seconds N   longest wait for the report to catch up (default 180)
  --seed N             random seed (default: the time)`;

function parseArgs(argv: string[]): Options {
  const env = scriptEnv();
  const urls: string[] = [];
  const values: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i];
    if (name === '--help' || name === '-h') {
      process.stdout.write(`${HELP}\n`);
      process.exit(0);
    }
    if (!name.startsWith('--') || argv[i + 1] === undefined) throw new Error(`unexpected argument ${name}\n${HELP}`);
    const value = argv[++i];
    if (name === '--url') urls.push(value.replace(/\/$/, ''));
    else values[name.slice(2)] = value;
  }
  const num = (name: string, fallback: number, min: number, max: number) => {
    const v = values[name] === undefined ? fallback : Number(values[name]);
    if (!Number.isFinite(v) || v < min || v > max) throw new Error(`--${name} must be a number in ${min}..${max}`);
    delete values[name];
    return v;
  };
  const minutes = values.minutes === undefined ? undefined : num('minutes', 1, 0.1, 24 * 60);
  const options: Options = {
    urls: urls.length ? urls : [env.baseUrl],
    adminKey: env.adminKey,
    seconds: minutes === undefined ? num('seconds', 60, 1, 24 * 3600) : minutes * 60,
    listeners: num('listeners', 30, 1, 1000),
    rate: num('rate', 10, 0.1, 100),
    speed: num('speed', 1, 0.1, 100),
    botShare: num('bots', 0.1, 0, 1),
    offlineShare: num('offline', 0.15, 0, 1),
    settleSeconds: num('settle-seconds', 180, 1, 3600),
    seed: num('seed', Date.now() % 2 ** 31, 0, 2 ** 31),
  };
  const unknown = Object.keys(values);
  if (unknown.length) throw new Error(`unknown option --${unknown[0]}\n${HELP}`);
  for (const url of options.urls) {
    if (!/^https?:\/\/[^/]+$/.test(url)) throw new Error(`--url ${url}: expected an origin such as http://127.0.0.1:3000`);
  }
  return options;
}

/** mulberry32: a small seeded generator, so that a run can be repeated. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const COUNTRIES: Array<{ code: string; weight: number; utcOffset: number; regions: string[] }> = [
  { code: 'US', weight: 30, utcOffset: -5, regions: ['US-NY', 'US-CA', 'US-TX', 'US-IL'] },
  { code: 'DE', weight: 12, utcOffset: 1, regions: ['DE-BE', 'DE-BY', 'DE-HH'] },
  { code: 'CA', weight: 8, utcOffset: -5, regions: ['CA-ON', 'CA-QC', 'CA-BC'] },
  { code: 'JP', weight: 10, utcOffset: 9, regions: ['JP-13', 'JP-27'] },
  { code: 'GB', weight: 10, utcOffset: 0, regions: ['GB-ENG', 'GB-SCT'] },
  { code: 'FR', weight: 8, utcOffset: 1, regions: ['FR-IDF', 'FR-ARA'] },
  { code: 'AT', weight: 4, utcOffset: 1, regions: ['AT-9'] },
  { code: 'CH', weight: 3, utcOffset: 1, regions: ['CH-ZH'] },
  { code: 'BR', weight: 8, utcOffset: -3, regions: ['BR-SP', 'BR-RJ'] },
];

const PLATFORMS: Array<{ platform: string; weight: number; userAgents: string[] }> = [
  { platform: 'ios', weight: 32, userAgents: ['AppleCoreMedia/1.0.0.21C62 (iPhone; U; CPU OS 17_2 like Mac OS X; en_us)'] },
  { platform: 'android', weight: 38, userAgents: ['ExoPlayerLib/2.19.1 (Linux; Android 14) okhttp/4.12.0'] },
  { platform: 'web', weight: 10, userAgents: ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36'] },
  { platform: 'desktop', weight: 6, userAgents: ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15'] },
  { platform: 'speaker', weight: 6, userAgents: ['Sonos/80.1-55014 (ZPS27)'] },
  { platform: 'car', weight: 5, userAgents: ['Mozilla/5.0 (Linux; Android 13; Android Automotive) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36'] },
  { platform: 'tv', weight: 3, userAgents: ['Roku/DVP-12.5 (12.5.0.4178)'] },
];

/** Known to isbot: the platform classifies their events as invalid. */
const BOT_USER_AGENTS = [
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
  'curl/8.5.0',
  'python-requests/2.31.0',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36',
];

const GENRES = ['pop', 'rock', 'indie', 'jazz', 'electronic', 'hiphop', 'classical', 'podcast', 'talk'];
const KEYWORDS = ['running', 'workout', 'fitness', 'books', 'stories', 'history', 'news', 'cooking', 'travel', 'sleep'];
const AGES = [16, 19, 23, 27, 31, 36, 42, 48, 53, 61, 68];
const GENDERS = ['female', 'male', 'non-binary'];

/** Listening by local hour, 0..23: low at night, peaks on the commute and in the evening. */
const HOURLY_ACTIVITY = [0.2, 0.1, 0.08, 0.06, 0.08, 0.2, 0.5, 0.9, 1, 0.8, 0.7, 0.7, 0.75, 0.7, 0.7, 0.75, 0.85, 1, 0.95, 0.9, 0.85, 0.7, 0.5, 0.3];

const PLAY_EVENTS = ['firstQuartile', 'midpoint', 'thirdQuartile', 'complete'] as const;

interface Ad {
  lineItemId: string;
  durationSeconds: number;
  tracking: Record<string, string>;
}

interface Tally {
  name: string;
  impressions: number;
  clicks: number;
  completes: number;
  invalidImpressions: number;
  invalidClicks: number;
}

const REPORTED_FIELDS = ['impressions', 'clicks', 'completes', 'invalidImpressions', 'invalidClicks'] as const;

class Simulation {
  private readonly rnd: () => number;
  private readonly expected = new Map<string, Tally>();
  private readonly names = new Map<string, string[]>();
  private readonly stats = { decisions: 0, filled: 0, ads: 0, beacons: 0, offlineBatches: 0, replays: 0, bots: 0, listeners: 0, errors: 0 };
  private readonly errors: string[] = [];
  private nextSlot = 0;
  private lastSentAt = 0;
  private stopAt = 0;

  constructor(private readonly o: Options) {
    this.rnd = random(o.seed);
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rnd() * items.length)];
  }

  private weighted<T extends { weight: number }>(items: readonly T[], weightOf: (item: T) => number = (i) => i.weight): T {
    const total = items.reduce((s, i) => s + weightOf(i), 0);
    let r = this.rnd() * total;
    for (const item of items) {
      r -= weightOf(item);
      if (r <= 0) return item;
    }
    return items[items.length - 1];
  }

  private sleep(realMs: number): Promise<void> {
    return new Promise((r) => setTimeout(r, Math.max(0, realMs)));
  }

  /** Ad requests are spaced evenly across all listeners: at most --rate a second. */
  private async slot(): Promise<void> {
    const now = Date.now();
    const at = Math.max(now, this.nextSlot);
    this.nextSlot = at + 1000 / this.o.rate;
    await this.sleep(at - now);
  }

  private fail(what: string): void {
    this.stats.errors++;
    if (this.errors.length < 10) this.errors.push(what);
  }

  private tally(lineItemId: string): Tally {
    let t = this.expected.get(lineItemId);
    if (!t) {
      t = { name: this.nameOf(lineItemId), impressions: 0, clicks: 0, completes: 0, invalidImpressions: 0, invalidClicks: 0 };
      this.expected.set(lineItemId, t);
    }
    return t;
  }

  private nameOf(id: string): string {
    for (const [name, ids] of this.names) if (ids.includes(id)) return name;
    return id;
  }

  async loadLineItems(): Promise<void> {
    this.names.clear();
    for (const li of await listAll(this.o.urls[0], this.o.adminKey, '/v1/line-items')) {
      this.names.set(li.name, [...(this.names.get(li.name) ?? []), li.id]);
    }
  }

  /** The replica's own origin with the tracking URL's path: only the given URLs are ever contacted. */
  private onReplica(replica: string, url: string): string {
    const u = new URL(url);
    return `${replica}${u.pathname}${u.search}`;
  }

  private async requestAds(listener: Listener, replica: string): Promise<Ad[]> {
    const headers = { 'user-agent': listener.userAgent, 'x-forwarded-for': listener.ip };
    this.stats.decisions++;
    if (this.rnd() < 0.7) {
      const q = new URLSearchParams({ placement: 'between-songs', userId: listener.id, platform: listener.platform, country: listener.country, region: listener.region, genre: this.pick(listener.genres), age: String(listener.age), gender: listener.gender });
      if (listener.keywords.length) q.set('keywords', listener.keywords.join(','));
      const res = await fetch(`${replica}/v1/vast?${q}`, { headers });
      const xml = await res.text();
      if (res.status !== 200) throw new Error(`GET /v1/vast answered ${res.status}: ${xml.slice(0, 200)}`);
      const ads = parseVast(xml);
      const resolved: Ad[] = [];
      for (const ad of ads) {
        let ids = this.names.get(ad.title);
        if (!ids) {
          await this.loadLineItems();
          ids = this.names.get(ad.title);
        }
        // Two line items of one name cannot be told apart in VAST: such an ad is not played (nor expected).
        if (ids?.length === 1) resolved.push({ lineItemId: ids[0], durationSeconds: ad.durationSeconds, tracking: ad.tracking });
      }
      return resolved;
    }
    const body = {
      placement: 'between-songs',
      user: { id: listener.id, age: listener.age, gender: listener.gender },
      device: { platform: listener.platform, userAgent: listener.userAgent, ip: listener.ip },
      geo: { country: listener.country, region: listener.region },
      context: { genre: this.pick(listener.genres), ...(listener.keywords.length ? { keywords: listener.keywords } : {}) },
    };
    const res = await fetch(`${replica}/v1/decisions`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`POST /v1/decisions answered ${res.status}: ${text.slice(0, 200)}`);
    return (JSON.parse(text).decisions as Json[]).map((d) => ({ lineItemId: d.lineItemId, durationSeconds: d.durationSeconds, tracking: d.tracking }));
  }

  private async fire(listener: Listener, replica: string, event: string, url: string): Promise<boolean> {
    const res = await fetch(this.onReplica(replica, url), { headers: { 'user-agent': listener.userAgent, 'x-forwarded-for': listener.ip }, redirect: 'manual' });
    await res.arrayBuffer();
    this.stats.beacons++;
    this.lastSentAt = Date.now();
    if (res.status !== 204 && res.status !== 302) {
      this.fail(`GET /t/${event} answered ${res.status}`);
      return false;
    }
    return true;
  }

  /** Plays one ad; online listeners fire each beacon when it happens, offline ones queue them. */
  private async play(listener: Listener, replica: string, ad: Ad, queue: Array<{ event: string; token: string; occurredAt: string }> | null): Promise<void> {
    const t = this.tally(ad.lineItemId);
    const emit = async (event: string): Promise<boolean> => {
      const url = ad.tracking[event];
      if (queue) {
        queue.push({ event, token: new URL(url).searchParams.get('d')!, occurredAt: new Date().toISOString() });
        return true;
      }
      return this.fire(listener, replica, event, url);
    };
    const counted = (event: 'impression' | 'click' | 'complete') => {
      if (listener.bot) {
        if (event === 'impression') t.invalidImpressions++;
        if (event === 'click') t.invalidClicks++;
      } else if (event === 'impression') t.impressions++;
      else if (event === 'click') t.clicks++;
      else t.completes++;
    };
    this.stats.ads++;
    if (await emit('impression')) counted('impression');
    await emit('start');
    // A retried beacon (a flaky network): counted once by the platform.
    if (!queue && this.rnd() < 0.05) {
      this.stats.replays++;
      await this.fire(listener, replica, 'impression', ad.tracking.impression);
    }
    const skipAfter = this.rnd() < 0.2 ? Math.floor(this.rnd() * 4) : 4;
    const clickAt = this.rnd() < (listener.bot ? 0.3 : 0.04) ? Math.floor(this.rnd() * 4) : -1;
    for (let q = 0; q < PLAY_EVENTS.length; q++) {
      await this.sleep(((ad.durationSeconds * 1000) / 4) / this.o.speed);
      if (q === clickAt && (await emit('click'))) counted('click');
      if (q >= skipAfter) return;
      if ((await emit(PLAY_EVENTS[q])) && PLAY_EVENTS[q] === 'complete') counted('complete');
    }
  }

  private async listen(listener: Listener): Promise<void> {
    const replica = this.pick(this.o.urls);
    const queue = listener.offline ? ([] as Array<{ event: string; token: string; occurredAt: string }>) : null;
    for (let breaks = 0; breaks < listener.adBreaks && Date.now() < this.stopAt; breaks++) {
      // A song (compressed), then an ad break.
      await this.sleep(((10_000 + this.rnd() * 50_000) / this.o.speed) * (breaks === 0 ? this.rnd() : 1));
      if (Date.now() >= this.stopAt) break;
      await this.slot();
      let ads: Ad[];
      try {
        ads = await this.requestAds(listener, replica);
      } catch (err) {
        this.fail((err as Error).message);
        continue;
      }
      if (ads.length) this.stats.filled++;
      for (const ad of ads) await this.play(listener, replica, ad, queue);
    }
    if (queue?.length) {
      // Back online: the whole session's beacons in one batch, late.
      await this.sleep((2000 + this.rnd() * 8000) / this.o.speed);
      const res = await fetch(`${this.pick(this.o.urls)}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': listener.userAgent, 'x-forwarded-for': listener.ip },
        body: JSON.stringify({ events: queue }),
      });
      const text = await res.text();
      this.stats.offlineBatches++;
      this.stats.beacons += queue.length;
      this.lastSentAt = Date.now();
      if (res.status !== 200) this.fail(`POST /v1/events answered ${res.status}: ${text.slice(0, 200)}`);
    }
  }

  private newListener(n: number): Listener {
    const hourUtc = new Date().getUTCHours();
    const country = this.weighted(COUNTRIES, (c) => c.weight * HOURLY_ACTIVITY[(((hourUtc + c.utcOffset) % 24) + 24) % 24]);
    const platform = this.weighted(PLATFORMS);
    const bot = this.rnd() < this.o.botShare;
    if (bot) this.stats.bots++;
    this.stats.listeners++;
    const genre = this.pick(GENRES);
    return {
      id: `sim-${this.o.seed.toString(36)}-${n}`,
      ip: `100.${64 + Math.floor(this.rnd() * 64)}.${Math.floor(this.rnd() * 256)}.${1 + Math.floor(this.rnd() * 254)}`,
      country: country.code,
      region: this.pick(country.regions),
      platform: platform.platform,
      userAgent: bot ? this.pick(BOT_USER_AGENTS) : this.pick(platform.userAgents),
      bot,
      offline: !bot && this.rnd() < this.o.offlineShare,
      genres: [genre, this.pick(GENRES)],
      keywords: this.rnd() < 0.4 ? [this.pick(KEYWORDS)] : [],
      age: this.pick(AGES),
      gender: this.pick(GENDERS),
      adBreaks: 2 + Math.floor(this.rnd() * 10),
    };
  }

  private progress(startedAt: number, final = false): void {
    const elapsed = (Date.now() - startedAt) / 1000;
    const share = Math.min(1, elapsed / this.o.seconds);
    const width = 24;
    const bar = `${'█'.repeat(Math.round(share * width))}${'░'.repeat(width - Math.round(share * width))}`;
    const s = this.stats;
    const fill = s.decisions ? Math.round((100 * s.filled) / s.decisions) : 0;
    const line = `${bar} ${Math.round(share * 100)}% ${Math.round(elapsed)}/${Math.round(this.o.seconds)} s  listeners ${s.listeners} (bots ${s.bots})  ad requests ${s.decisions} (fill ${fill}%)  ads ${s.ads}  beacons ${s.beacons}  offline batches ${s.offlineBatches}  errors ${s.errors}`;
    if (process.stderr.isTTY) process.stderr.write(`\r${line.slice(0, (process.stderr.columns || 200) - 1)}\x1b[K${final ? '\n' : ''}`);
    else if (final || Math.round(elapsed) % 10 === 0) process.stderr.write(`${line}\n`);
  }

  async run(): Promise<Tally[]> {
    await this.loadLineItems();
    const startedAt = Date.now();
    this.stopAt = startedAt + this.o.seconds * 1000;
    let n = 0;
    const timer = setInterval(() => this.progress(startedAt), process.stderr.isTTY ? 500 : 1000);
    // Each slot keeps one listener at a time; when a session ends a new listener takes its place.
    const slots = Array.from({ length: this.o.listeners }, async () => {
      while (Date.now() < this.stopAt) await this.listen(this.newListener(n++));
    });
    await Promise.all(slots);
    clearInterval(timer);
    this.progress(startedAt, true);
    return [...this.expected.values()];
  }

  get summary() {
    return { ...this.stats, lastSentAt: this.lastSentAt, errorSamples: this.errors, expected: this.expected };
  }
}

interface Listener {
  id: string;
  ip: string;
  country: string;
  region: string;
  platform: string;
  userAgent: string;
  bot: boolean;
  offline: boolean;
  genres: string[];
  keywords: string[];
  age: number;
  gender: string;
  adBreaks: number;
}

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const unescapeXml = (s: string) => s.replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => XML_ENTITIES[e]);
const cdataOf = (s: string | undefined) => (s ?? '').replace(/<!\[CDATA\[|\]\]>/g, '').trim();

/** What a player reads of a VAST 4.2 document: per ad its title, duration and tracking URLs. */
export function parseVast(xml: string): Array<{ title: string; durationSeconds: number; tracking: Record<string, string> }> {
  const ads: Array<{ title: string; durationSeconds: number; tracking: Record<string, string> }> = [];
  for (const [, ad] of xml.matchAll(/<Ad\b[^>]*>([\s\S]*?)<\/Ad>/g)) {
    const tracking: Record<string, string> = { impression: cdataOf(/<Impression\b[^>]*>([\s\S]*?)<\/Impression>/.exec(ad)?.[1]), click: cdataOf(/<ClickTracking\b[^>]*>([\s\S]*?)<\/ClickTracking>/.exec(ad)?.[1]) };
    for (const [, event, url] of ad.matchAll(/<Tracking event="(\w+)">([\s\S]*?)<\/Tracking>/g)) tracking[event] = cdataOf(url);
    const [h, m, s] = (/<Duration>([\d:.]+)<\/Duration>/.exec(ad)?.[1] ?? '0:0:0').split(':').map(Number);
    ads.push({ title: unescapeXml(/<AdTitle>([\s\S]*?)<\/AdTitle>/.exec(ad)?.[1] ?? ''), durationSeconds: h * 3600 + m * 60 + s, tracking });
  }
  return ads;
}

async function report(o: Options, lineItemId: string): Promise<Json> {
  return apiCall(o.urls[0], o.adminKey, 'GET', `/v1/reports?lineItemId=${lineItemId}&granularity=total`);
}

function totalsOf(r: Json): Record<(typeof REPORTED_FIELDS)[number], number> {
  const row = r.rows?.[0] ?? {};
  return Object.fromEntries(REPORTED_FIELDS.map((f) => [f, Number(row[f] ?? 0)])) as Record<(typeof REPORTED_FIELDS)[number], number>;
}

/** Reports of every line item once aggregation has caught up with `since` (the report's dataThrough). */
async function settledReports(o: Options, ids: string[], since: number, timeoutMs: number, until?: (reports: Map<string, Json>) => boolean): Promise<{ reports: Map<string, Json>; settled: boolean }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reports = new Map<string, Json>();
    for (const id of ids) reports.set(id, await report(o, id));
    const caughtUp = [...reports.values()].every((r) => r.dataThrough && Date.parse(r.dataThrough) >= since);
    if ((caughtUp && (!until || until(reports))) || Date.now() > deadline) return { reports, settled: caughtUp };
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  process.stderr.write(`Simulating ${o.listeners} listeners for ${o.seconds} s against ${o.urls.join(' and ')} (at most ${o.rate} ad requests/s, speed ×${o.speed}, ${Math.round(o.botShare * 100)}% bots, ${Math.round(o.offlineShare * 100)}% offline, seed ${o.seed})\n`);
  const startedAt = Date.now();
  const active = (await listAll(o.urls[0], o.adminKey, '/v1/line-items?status=active')).map((li) => li.id as string);
  if (active.length === 0) throw new Error('no active line item: nothing can be served (npm run seed creates some)');
  // What the platform had already counted before this run: the comparison is of the difference.
  const baseline = await settledReports(o, active, startedAt, 120_000);
  if (!baseline.settled) throw new Error('the reports did not catch up with the start within 120 s: is a worker running?');

  const sim = new Simulation(o);
  const expected = await sim.run();
  const s = sim.summary;
  if (s.ads === 0) throw new Error(`no ad was served in ${s.decisions} requests${s.errorSamples.length ? `; errors: ${s.errorSamples.join('; ')}` : ''}`);

  process.stderr.write('Waiting for the platform to aggregate what was sent…\n');
  const ids = [...s.expected.keys()];
  const deltaOf = (reports: Map<string, Json>, id: string) => {
    const now = totalsOf(reports.get(id)!);
    const before = baseline.reports.has(id) ? totalsOf(baseline.reports.get(id)!) : undefined;
    return Object.fromEntries(REPORTED_FIELDS.map((f) => [f, now[f] - (before?.[f] ?? 0)])) as Record<(typeof REPORTED_FIELDS)[number], number>;
  };
  const agrees = (reports: Map<string, Json>) => ids.every((id) => REPORTED_FIELDS.every((f) => deltaOf(reports, id)[f] === s.expected.get(id)![f]));
  const final = await settledReports(o, ids, s.lastSentAt, o.settleSeconds * 1000, agrees);

  const rows = [...s.expected.entries()].map(([id, t]) => ({ t, got: deltaOf(final.reports, id) }));
  const cell = (want: number, got: number) => (want === got ? String(got) : `${got} ≠ ${want}`);
  const header = ['line item', 'impressions', 'clicks', 'completes', 'invalid imp.', 'invalid clicks', ''];
  const table = rows.map(({ t, got }) => [
    t.name.slice(0, 40),
    cell(t.impressions, got.impressions),
    cell(t.clicks, got.clicks),
    cell(t.completes, got.completes),
    cell(t.invalidImpressions, got.invalidImpressions),
    cell(t.invalidClicks, got.invalidClicks),
    REPORTED_FIELDS.every((f) => t[f] === got[f]) ? '✓' : '✗',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  process.stdout.write(`\nExpected (sent) beside reported by GET /v1/reports, this run only ("reported ≠ expected" where they differ):\n${line(header)}\n${table.map(line).join('\n')}\n`);
  const sum = (f: (typeof REPORTED_FIELDS)[number]) => expected.reduce((a, t) => a + t[f], 0);
  process.stdout.write(
    `\n${s.listeners} listeners (${s.bots} bots), ${s.decisions} ad requests, ${s.ads} ads played, ${s.beacons} beacons (${s.offlineBatches} offline batches, ${s.replays} retried), ${s.errors} errors.\n` +
      `Expected: ${sum('impressions')} impressions, ${sum('clicks')} clicks, ${sum('completes')} completes valid; ${sum('invalidImpressions')} impressions and ${sum('invalidClicks')} clicks invalid (bots).\n`,
  );
  const problems: string[] = [];
  if (!final.settled) problems.push(`aggregation did not catch up within ${o.settleSeconds} s`);
  if (!agrees(final.reports)) problems.push('the report disagrees with what was sent');
  if (s.errors) problems.push(`${s.errors} requests failed: ${s.errorSamples.join('; ')}`);
  if (problems.length) {
    process.stdout.write(`✗ ${problems.join('; ')}\n`);
    process.exit(1);
  }
  process.stdout.write('✓ the platform reports exactly what was sent\n');
}

main().catch((err: Error) => {
  process.stderr.write(`\n✗ simulate failed: ${err.message}\n`);
  process.exit(1);
});
