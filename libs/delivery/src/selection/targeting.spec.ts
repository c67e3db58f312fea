import type { CatalogTargeting } from '@app/campaigns';
import { localTime } from '../time/local-time';
import type { DecisionContext } from './decision-context';
import { compileTargeting, matchTargeting, parseAgeRange } from './targeting';

const base: DecisionContext = {
  placement: 'between-songs',
  slots: 1,
  userId: 'u-1',
  age: 30,
  gender: 'female',
  platform: 'ios',
  country: 'US',
  region: 'ca',
  genre: 'rock',
  keywords: ['running', 'summer'],
};
// Wednesday 2026-11-25 15:30 UTC = 10:30 in New York, 07:30 in Los Angeles, 00:30 Thursday in Tokyo.
const NOW = Date.UTC(2026, 10, 25, 15, 30);

function match(t: CatalogTargeting, ctx: Partial<DecisionContext> = {}, tz = 'UTC', now = NOW) {
  return matchTargeting(compileTargeting(t), { ...base, ...ctx }, () => localTime(tz, now));
}

describe('targeting', () => {
  it('matches everything when nothing is targeted', () => {
    expect(match({})).toBeNull();
    expect(match({ countries: [], keywords: {} })).toBeNull();
  });

  it('countries: any listed country', () => {
    expect(match({ countries: ['CA', 'US'] })).toBeNull();
    expect(match({ countries: ['CA'] })).toBe('countries');
  });

  it('regions: bare or country-qualified codes, case-insensitive; a request without region does not match', () => {
    expect(match({ regions: ['CA'] })).toBeNull();
    expect(match({ regions: ['US-CA'] })).toBeNull();
    expect(match({ regions: ['NY'] })).toBe('regions');
    expect(match({ regions: ['CA'] }, { region: undefined })).toBe('regions');
  });

  it('platforms', () => {
    expect(match({ platforms: ['android', 'ios'] })).toBeNull();
    expect(match({ platforms: ['speaker'] })).toBe('platforms');
  });

  it.each([
    [['18-24'], 18, true],
    [['18-24'], 24, true],
    [['18-24'], 25, false],
    [['18-24', '25-34'], 30, true],
    [['55+'], 55, true],
    [['55+'], 99, true],
    [['55+'], 54, false],
  ])('ageRanges %j with age %i -> %s', (ranges, age, ok) => {
    expect(match({ ageRanges: ranges }, { age })).toBe(ok ? null : 'ageRanges');
  });

  it('ageRanges: no age in the request does not match; a malformed bracket matches nobody', () => {
    expect(match({ ageRanges: ['18-24'] }, { age: undefined })).toBe('ageRanges');
    expect(match({ ageRanges: ['adults'] })).toBe('ageRanges');
    expect(parseAgeRange('65+')).toEqual({ min: 65, max: Infinity });
    expect(parseAgeRange('30-20')).toBeNull();
  });

  it('ageRanges: a bracket is the whole string (spaces allowed around its parts), a single age is a bracket', () => {
    expect(parseAgeRange(' 18 - 24 ')).toEqual({ min: 18, max: 24 });
    expect(parseAgeRange(' 55 + ')).toEqual({ min: 55, max: Infinity });
    expect(parseAgeRange('30-30')).toEqual({ min: 30, max: 30 });
    for (const bad of ['x18-24', '18-24x', '18x-24', '18-x24', '18.-24', '18-24.', 'a55+', '55+a', '55a+', '55+.', '1-2-3']) expect([bad, parseAgeRange(bad)]).toEqual([bad, null]);
    // A malformed bracket matches nobody, not even the oldest or youngest listener.
    expect(match({ ageRanges: ['adults'] }, { age: 0 })).toBe('ageRanges');
    expect(match({ ageRanges: ['adults'] }, { age: 120 })).toBe('ageRanges');
    expect(match({ ageRanges: ['adults', '30-30'] }, { age: 30 })).toBeNull();
  });

  it('genders and genres, case-insensitive, absent in the request = no match', () => {
    expect(match({ genders: ['Female'] })).toBeNull();
    expect(match({ genders: ['male'] })).toBe('genders');
    expect(match({ genders: ['female'] }, { gender: undefined })).toBe('genders');
    expect(match({ genres: ['pop', 'ROCK'] })).toBeNull();
    expect(match({ genres: ['pop'] })).toBe('genres');
    expect(match({ genres: ['rock'] }, { genre: undefined })).toBe('genres');
  });

  it('keywords: any / all / none', () => {
    expect(match({ keywords: { any: ['cycling', 'Running'] } })).toBeNull();
    expect(match({ keywords: { any: ['cycling'] } })).toBe('keywords');
    expect(match({ keywords: { all: ['running', 'summer'] } })).toBeNull();
    expect(match({ keywords: { all: ['running', 'winter'] } })).toBe('keywords');
    expect(match({ keywords: { none: ['news'] } })).toBeNull();
    expect(match({ keywords: { none: ['summer'] } })).toBe('keywords');
    expect(match({ keywords: { any: ['running'], none: ['news'] } }, { keywords: [] })).toBe('keywords');
    expect(match({ keywords: { none: ['news'] } }, { keywords: [] })).toBeNull();
    // One excluded keyword present is enough to refuse.
    expect(match({ keywords: { none: ['summer', 'news'] } })).toBe('keywords');
  });

  it('dayparts: a part may wrap past midnight (22 to 2), and its end hour is excluded', () => {
    const night = { dayparts: [{ days: [3], startHour: 22, endHour: 2 }] };
    // Wednesday 2026-11-25 in UTC.
    expect(match(night, {}, 'UTC', Date.UTC(2026, 10, 25, 23, 0))).toBeNull();
    expect(match(night, {}, 'UTC', Date.UTC(2026, 10, 25, 1, 30))).toBeNull();
    expect(match(night, {}, 'UTC', Date.UTC(2026, 10, 25, 22, 0))).toBeNull();
    expect(match(night, {}, 'UTC', Date.UTC(2026, 10, 25, 2, 0))).toBe('dayparts');
    expect(match(night, {}, 'UTC', Date.UTC(2026, 10, 25, 21, 59))).toBe('dayparts');
    expect(match(night, {}, 'UTC', Date.UTC(2026, 10, 25, 12, 0))).toBe('dayparts');
    const evening = { dayparts: [{ days: [3], startHour: 18, endHour: 21 }] };
    expect(match(evening, {}, 'UTC', Date.UTC(2026, 10, 25, 21, 0))).toBe('dayparts');
    expect(match(evening, {}, 'UTC', Date.UTC(2026, 10, 25, 18, 0))).toBeNull();
  });

  it('dayparts: weekday and hour in the advertiser timezone', () => {
    const mornings = { dayparts: [{ days: [3], startHour: 9, endHour: 12 }] };
    expect(match(mornings, {}, 'America/New_York')).toBeNull();
    expect(match(mornings, {}, 'America/Los_Angeles')).toBe('dayparts');
    expect(match(mornings, {}, 'UTC')).toBe('dayparts');
    // Tokyo: already Thursday 00:30.
    expect(match({ dayparts: [{ days: [4], startHour: 0, endHour: 1 }] }, {}, 'Asia/Tokyo')).toBeNull();
    expect(match({ dayparts: [{ days: [3], startHour: 0, endHour: 24 }] }, {}, 'Asia/Tokyo')).toBe('dayparts');
    // Several parts are ORed; endHour is excluded.
    expect(match({ dayparts: [{ days: [3], startHour: 7, endHour: 8 }, { days: [1], startHour: 0, endHour: 24 }] }, {}, 'America/Los_Angeles')).toBeNull();
    expect(match({ dayparts: [{ days: [3], startHour: 6, endHour: 7 }] }, {}, 'America/Los_Angeles')).toBe('dayparts');
  });

  it('dayparts follow DST: 9:00 local is 13:00 UTC in summer and 14:00 UTC in winter in New York', () => {
    const nine = { dayparts: [{ days: [0, 1, 2, 3, 4, 5, 6], startHour: 9, endHour: 10 }] };
    expect(match(nine, {}, 'America/New_York', Date.UTC(2026, 6, 1, 13, 15))).toBeNull();
    expect(match(nine, {}, 'America/New_York', Date.UTC(2026, 11, 1, 13, 15))).toBe('dayparts');
    expect(match(nine, {}, 'America/New_York', Date.UTC(2026, 11, 1, 14, 15))).toBeNull();
  });

  it('ANDs fields: the first failing one is reported', () => {
    expect(match({ countries: ['US'], platforms: ['android'], genres: ['pop'] })).toBe('platforms');
  });
});
