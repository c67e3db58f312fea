import type { CatalogTargeting } from '@app/campaigns';
import type { LocalTime } from '../time/local-time';
import type { DecisionContext } from './decision-context';

/** The targeting field a request failed on (for explanations). */
export type TargetingField = 'countries' | 'regions' | 'platforms' | 'ageRanges' | 'genders' | 'genres' | 'keywords' | 'dayparts';

/** Targeting pre-processed at index build time: sets, parsed age brackets, day bitmasks. */
export interface CompiledTargeting {
  countries?: Set<string>;
  regions?: Set<string>;
  platforms?: Set<string>;
  ageRanges?: Array<{ min: number; max: number }>;
  genders?: Set<string>;
  genres?: Set<string>;
  keywordsAny?: string[];
  keywordsAll?: string[];
  keywordsNone?: string[];
  /** `days` is a bitmask of weekdays (bit 0 = Sunday); hours are [startHour, endHour). */
  dayparts?: Array<{ days: number; startHour: number; endHour: number }>;
}

const nonEmpty = <T>(list: T[] | undefined): list is T[] => Array.isArray(list) && list.length > 0;
const lower = (list: string[]) => new Set(list.map((v) => v.toLowerCase()));

/** Parses '18-24' (inclusive) or '55+' into a bracket; null for anything else. */
export function parseAgeRange(range: string): { min: number; max: number } | null {
  const plus = /^\s*(\d{1,3})\s*\+\s*$/.exec(range);
  if (plus) return { min: Number(plus[1]), max: Infinity };
  const span = /^\s*(\d{1,3})\s*-\s*(\d{1,3})\s*$/.exec(range);
  if (span && Number(span[1]) <= Number(span[2])) return { min: Number(span[1]), max: Number(span[2]) };
  return null;
}

export function compileTargeting(t: CatalogTargeting | null | undefined): CompiledTargeting {
  const out: CompiledTargeting = {};
  if (!t) return out;
  if (nonEmpty(t.countries)) out.countries = new Set(t.countries.map((c) => c.toUpperCase()));
  if (nonEmpty(t.regions)) out.regions = lower(t.regions);
  if (nonEmpty(t.platforms)) out.platforms = lower(t.platforms);
  // An unparseable bracket matches nobody rather than everybody.
  if (nonEmpty(t.ageRanges)) out.ageRanges = t.ageRanges.map(parseAgeRange).map((r) => r ?? { min: Infinity, max: -Infinity });
  if (nonEmpty(t.genders)) out.genders = lower(t.genders);
  if (nonEmpty(t.genres)) out.genres = lower(t.genres);
  if (nonEmpty(t.keywords?.any)) out.keywordsAny = [...lower(t.keywords.any)];
  if (nonEmpty(t.keywords?.all)) out.keywordsAll = [...lower(t.keywords.all)];
  if (nonEmpty(t.keywords?.none)) out.keywordsNone = [...lower(t.keywords.none)];
  if (nonEmpty(t.dayparts)) {
    out.dayparts = t.dayparts.map((d) => ({ days: d.days.reduce((mask, day) => mask | (1 << day), 0), startHour: d.startHour, endHour: d.endHour }));
  }
  return out;
}

/**
 * Checks every targeting field (ANDed; values within a field ORed). A field the line item targets
 * and the request does not carry (no age, no region...) does not match. Dayparts use the local time
 * of the advertiser's timezone, computed only when the line item has dayparts.
 * Returns the first field that fails, or null when the request matches.
 */
export function matchTargeting(t: CompiledTargeting, ctx: DecisionContext, localTime: () => LocalTime): TargetingField | null {
  if (t.countries && !t.countries.has(ctx.country)) return 'countries';
  if (t.regions && !(ctx.region !== undefined && (t.regions.has(ctx.region) || t.regions.has(`${ctx.country.toLowerCase()}-${ctx.region}`)))) return 'regions';
  if (t.platforms && !t.platforms.has(ctx.platform)) return 'platforms';
  if (t.ageRanges) {
    const age = ctx.age;
    if (age === undefined || !t.ageRanges.some((r) => age >= r.min && age <= r.max)) return 'ageRanges';
  }
  if (t.genders && !(ctx.gender !== undefined && t.genders.has(ctx.gender))) return 'genders';
  if (t.genres && !(ctx.genre !== undefined && t.genres.has(ctx.genre))) return 'genres';
  if (t.keywordsAny || t.keywordsAll || t.keywordsNone) {
    const kw = ctx.keywords;
    if (t.keywordsAny && !t.keywordsAny.some((k) => kw.includes(k))) return 'keywords';
    if (t.keywordsAll && !t.keywordsAll.every((k) => kw.includes(k))) return 'keywords';
    if (t.keywordsNone && t.keywordsNone.some((k) => kw.includes(k))) return 'keywords';
  }
  if (t.dayparts) {
    const local = localTime();
    const inPart = t.dayparts.some((d) => {
      if ((d.days & (1 << local.weekday)) === 0) return false;
      // A part may wrap past midnight (startHour > endHour), e.g. 22..2.
      return d.startHour < d.endHour ? local.hour >= d.startHour && local.hour < d.endHour : local.hour >= d.startHour || local.hour < d.endHour;
    });
    if (!inPart) return 'dayparts';
  }
  return null;
}
