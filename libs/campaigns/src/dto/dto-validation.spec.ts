import { plainToInstance } from 'class-transformer';
import { ValidationError, validate } from 'class-validator';
import { COUNTRY_CODES } from '../validation/country-codes';
import { ageRangeOf } from '../validation/targeting-values';
import { isCurrencyCode, isHttpUrl, isIanaTimezone, isPlainText, isZonedDateTime, toUtcDateTime } from '../validation/validators';
import { CreateAdvertiserDto, UpdateAdvertiserDto } from './advertiser.dto';
import { CreateCampaignDto, UpdateCampaignDto } from './campaign.dto';
import { CreateCreativeDto, ReviewCreativeDto, UpdateCreativeDto } from './creative.dto';
import { CreateLineItemDto, UpdateLineItemDto } from './line-item.dto';

/** Validates like the global pipe (unknown fields refused) and returns the failing field paths. */
async function failingFields<T extends object>(cls: new () => T, plain: object): Promise<string[]> {
  const errors = await validate(plainToInstance(cls, plain), { whitelist: true, forbidNonWhitelisted: true });
  const out: string[] = [];
  const walk = (list: ValidationError[], parent: string) => {
    for (const e of list) {
      const path = parent ? `${parent}.${e.property}` : e.property;
      if (e.constraints) out.push(path);
      if (e.children?.length) walk(e.children, path);
    }
  };
  walk(errors, '');
  return out.sort();
}

const ID = '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f';

describe('advertiser DTOs', () => {
  it('accepts defaults and real codes', async () => {
    expect(await failingFields(CreateAdvertiserDto, { name: 'Acme' })).toEqual([]);
    expect(await failingFields(CreateAdvertiserDto, { name: 'Acme', currency: 'JPY', timezone: 'Asia/Tokyo' })).toEqual([]);
    expect(await failingFields(CreateAdvertiserDto, { name: 'Acme', timezone: 'UTC' })).toEqual([]);
  });

  it.each([
    [{ name: 'Acme', currency: 'ABC' }, ['currency']],
    [{ name: 'Acme', currency: 'eur' }, ['currency']],
    [{ name: 'Acme', timezone: 'Europe/Atlantis' }, ['timezone']],
    [{ name: 'Acme', timezone: '+01:00' }, ['timezone']],
    [{ name: '' }, ['name']],
    [{ name: '   ' }, ['name']],
    [{ name: '\u00a0\t' }, ['name']],
    [{ name: 'x'.repeat(201) }, ['name']],
    [{ name: 'Acme', owner: 'me' }, ['owner']],
  ])('rejects %j on %j', async (plain, fields) => {
    expect(await failingFields(CreateAdvertiserDto, plain)).toEqual(fields);
  });

  it('refuses null for a non-nullable PATCH field', async () => {
    expect(await failingFields(UpdateAdvertiserDto, { name: null })).toEqual(['name']);
    expect(await failingFields(UpdateAdvertiserDto, {})).toEqual([]);
    expect(await failingFields(UpdateAdvertiserDto, { name: ' ' })).toEqual(['name']);
  });
});

describe('campaign DTOs', () => {
  const good = { advertiserId: ID, name: 'C', startAt: '2026-12-01T00:00:00Z', endAt: '2026-12-31T00:00:00+01:00' };

  it('accepts a valid campaign, with or without budget', async () => {
    expect(await failingFields(CreateCampaignDto, good)).toEqual([]);
    expect(await failingFields(CreateCampaignDto, { ...good, budgetMicros: Number.MAX_SAFE_INTEGER })).toEqual([]);
  });

  it.each([
    [{ endAt: '2026-11-30T00:00:00Z' }, ['endAt']],
    [{ endAt: good.startAt }, ['endAt']],
    [{ startAt: '2026-12-01T25:00:00' }, ['startAt']],
    [{ startAt: '2026-02-30T00:00:00Z' }, ['startAt']],
    [{ startAt: 1764547200000 }, ['startAt']],
    [{ budgetMicros: 0 }, ['budgetMicros']],
    [{ budgetMicros: -1 }, ['budgetMicros']],
    [{ budgetMicros: 2.5 }, ['budgetMicros']],
    [{ budgetMicros: Number.MAX_SAFE_INTEGER + 1 }, ['budgetMicros']],
    [{ budgetMicros: '100' }, ['budgetMicros']],
    [{ status: 'active' }, ['status']],
  ])('rejects %j', async (override, fields) => {
    expect(await failingFields(CreateCampaignDto, { ...good, ...override })).toEqual(fields);
  });

  it('lets PATCH clear the budget but not the name', async () => {
    expect(await failingFields(UpdateCampaignDto, { budgetMicros: null })).toEqual([]);
    expect(await failingFields(UpdateCampaignDto, { name: null, startAt: null })).toEqual(['name', 'startAt']);
  });
});

describe('creative DTOs', () => {
  const good = {
    advertiserId: ID,
    name: 'Spot',
    format: 'audio',
    mediaUrl: 'https://cdn.example.com/a.mp3',
    mimeType: 'audio/mpeg',
    durationSeconds: 30,
    clickThroughUrl: 'http://example.com/x?y=1',
  };

  it('accepts audio, video and display creatives with matching MIME types', async () => {
    expect(await failingFields(CreateCreativeDto, good)).toEqual([]);
    expect(await failingFields(CreateCreativeDto, { ...good, format: 'video', mimeType: 'video/mp4', durationSeconds: 120 })).toEqual([]);
    expect(await failingFields(CreateCreativeDto, { ...good, format: 'display', mimeType: 'image/png', companionImageUrl: null })).toEqual([]);
  });

  it.each([
    [{ mediaUrl: 'ftp://cdn.example.com/a.mp3' }, ['mediaUrl']],
    [{ mediaUrl: '//cdn.example.com/a.mp3' }, ['mediaUrl']],
    [{ clickThroughUrl: 'javascript:alert(1)' }, ['clickThroughUrl']],
    [{ companionImageUrl: 'mailto:a@b.c' }, ['companionImageUrl']],
    [{ mediaUrl: `https://cdn.example.com/${'a'.repeat(2048)}` }, ['mediaUrl']],
    [{ durationSeconds: 0 }, ['durationSeconds']],
    [{ durationSeconds: 121 }, ['durationSeconds']],
    [{ durationSeconds: 30.5 }, ['durationSeconds']],
    [{ format: 'podcast' }, ['format']],
    [{ format: 'video' }, ['mimeType']],
    [{ mimeType: 'image/png' }, ['mimeType']],
    [{ mimeType: 'audio' }, ['mimeType']],
  ])('rejects %j', async (override, fields) => {
    expect(await failingFields(CreateCreativeDto, { ...good, ...override })).toEqual(fields);
  });

  it('PATCH refuses a format change and a null URL; review takes approved or rejected only', async () => {
    expect(await failingFields(UpdateCreativeDto, { format: 'video' })).toEqual(['format']);
    expect(await failingFields(UpdateCreativeDto, { mediaUrl: null })).toEqual(['mediaUrl']);
    expect(await failingFields(UpdateCreativeDto, { companionImageUrl: null })).toEqual([]);
    expect(await failingFields(ReviewCreativeDto, { decision: 'approved', note: 'ok' })).toEqual([]);
    expect(await failingFields(ReviewCreativeDto, { decision: 'pending_review' })).toEqual(['decision']);
  });
});

describe('line item DTOs', () => {
  const good = {
    campaignId: ID,
    name: 'LI',
    pricingModel: 'CPM',
    rateMicros: 5_000_000,
    budgetMicros: 1_000_000_000,
    dailyBudgetMicros: 1_000_000_000,
    pacing: 'EVEN',
    priority: 16,
    startAt: '2026-12-01T00:00:00Z',
    endAt: '2026-12-02T00:00:00Z',
    frequencyCaps: [
      { maxImpressions: 1, periodSeconds: 60 },
      { maxImpressions: 1_000_000, periodSeconds: 31_536_000 },
    ],
    targeting: {
      countries: ['US', 'GB'],
      regions: ['US-CA'],
      platforms: ['speaker', 'car'],
      ageRanges: ['65+'],
      genders: ['non-binary'],
      genres: ['jazz'],
      keywords: { any: ['a'], all: ['b'], none: ['c'] },
      dayparts: [{ days: [0, 6], startHour: 0, endHour: 24 }],
    },
    creativeIds: [ID],
    creativeWeights: { [ID]: 1000 },
  };

  it('accepts a complete line item and a minimal one', async () => {
    expect(await failingFields(CreateLineItemDto, good)).toEqual([]);
    expect(await failingFields(CreateLineItemDto, { campaignId: ID, name: 'x', pricingModel: 'CPC', rateMicros: 1, budgetMicros: 1 })).toEqual([]);
  });

  it.each([
    [{ dailyBudgetMicros: 1_000_000_001 }, ['dailyBudgetMicros']],
    [{ rateMicros: 0 }, ['rateMicros']],
    [{ budgetMicros: 9_007_199_254_740_992 }, ['budgetMicros']],
    [{ priority: 0 }, ['priority']],
    [{ priority: 1.5 }, ['priority']],
    [{ pricingModel: 'CPV' }, ['pricingModel']],
    [{ pacing: 'even' }, ['pacing']],
    [{ endAt: '2026-11-30T00:00:00Z' }, ['endAt']],
    [{ frequencyCaps: [...good.frequencyCaps, ...good.frequencyCaps, ...good.frequencyCaps] }, ['frequencyCaps']],
    [{ frequencyCaps: [{ maxImpressions: 1, periodSeconds: 59 }] }, ['frequencyCaps.0.periodSeconds']],
    [{ frequencyCaps: [{ maxImpressions: 1, periodSeconds: 31_536_001 }] }, ['frequencyCaps.0.periodSeconds']],
    [{ frequencyCaps: [{ maxImpressions: 0, periodSeconds: 60 }] }, ['frequencyCaps.0.maxImpressions']],
    [{ frequencyCaps: [{ maxImpressions: 1 }] }, ['frequencyCaps.0.periodSeconds']],
    [{ frequencyCaps: [{ maxImpressions: 1, periodSeconds: 60, scope: 'user' }] }, ['frequencyCaps.0.scope']],
    [{ targeting: { countries: ['UK'] } }, ['targeting.countries']],
    [{ targeting: { countries: ['US', 'US'] } }, ['targeting.countries']],
    [{ targeting: { platforms: ['ios', 'watch'] } }, ['targeting.platforms']],
    [{ targeting: { ageRanges: ['0-12'] } }, ['targeting.ageRanges']],
    [{ targeting: { genres: [] } }, ['targeting.genres']],
    [{ targeting: { keywords: ['x'] } }, ['targeting.keywords', 'targeting.keywords.0']],
    [{ targeting: { keywords: { some: ['x'] } } }, ['targeting.keywords.some']],
    [{ targeting: { dayparts: [{ days: [], startHour: 0, endHour: 1 }] } }, ['targeting.dayparts.0.days']],
    [{ targeting: { dayparts: [{ days: [-1], startHour: 0, endHour: 1 }] } }, ['targeting.dayparts.0.days']],
    [{ targeting: { dayparts: [{ days: [2, 2], startHour: 0, endHour: 1 }] } }, ['targeting.dayparts.0.days']],
    [{ targeting: { dayparts: [{ days: [2], startHour: 12, endHour: 11 }] } }, ['targeting.dayparts.0.endHour']],
    [{ targeting: { dayparts: [{ days: [2], startHour: 24, endHour: 24 }] } }, ['targeting.dayparts.0.endHour', 'targeting.dayparts.0.startHour']],
    [{ targeting: { dayparts: [{ days: [2], startHour: 1.5, endHour: 3 }] } }, ['targeting.dayparts.0.startHour']],
    [{ targeting: { interests: ['x'] } }, ['targeting.interests']],
    [{ creativeIds: [ID, ID] }, ['creativeIds']],
    [{ creativeIds: 'abc' }, ['creativeIds']],
    [{ creativeWeights: { other: 2 } }, ['creativeWeights']],
    [{ creativeWeights: { [ID]: 0 } }, ['creativeWeights']],
    [{ creativeWeights: [1] }, ['creativeWeights']],
    [{ status: 'active' }, ['status']],
  ])('rejects %j', async (override, fields) => {
    expect(await failingFields(CreateLineItemDto, { ...good, ...override })).toEqual(fields);
  });

  it('PATCH: everything optional, null clears only the nullable fields, campaignId cannot move', async () => {
    expect(await failingFields(UpdateLineItemDto, {})).toEqual([]);
    expect(await failingFields(UpdateLineItemDto, { dailyBudgetMicros: null, startAt: null, endAt: null })).toEqual([]);
    expect(await failingFields(UpdateLineItemDto, { priority: null, targeting: null, creativeIds: null })).toEqual(['creativeIds', 'priority', 'targeting']);
    expect(await failingFields(UpdateLineItemDto, { campaignId: ID })).toEqual(['campaignId']);
    expect(await failingFields(UpdateLineItemDto, { budgetMicros: 10, dailyBudgetMicros: 11 })).toEqual(['dailyBudgetMicros']);
  });
});

describe('reference values', () => {
  it('knows the 249 ISO 3166-1 alpha-2 countries, each named by Intl', () => {
    expect(COUNTRY_CODES).toHaveLength(249);
    expect(new Set(COUNTRY_CODES).size).toBe(249);
    const names = new Intl.DisplayNames(['en'], { type: 'region' });
    for (const code of COUNTRY_CODES) expect(names.of(code)).not.toBe(code);
    expect(COUNTRY_CODES).not.toContain('UK');
    expect(COUNTRY_CODES).not.toContain('EU');
  });

  it('checks currencies, timezones and zoned date-times', () => {
    expect(['USD', 'EUR', 'JPY', 'BRL'].every(isCurrencyCode)).toBe(true);
    expect(['usd', 'XXXX', 'ABC', '', 840].some(isCurrencyCode)).toBe(false);
    expect(['UTC', 'Europe/Paris', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5'].every(isIanaTimezone)).toBe(true);
    expect(['Mars/Base', '+02:00', 'Europe/../etc', '', 'GMT +1'].some(isIanaTimezone)).toBe(false);
    expect(['2026-01-01T00:00:00Z', '2026-01-01T00:00:00.123+05:30', '2026-01-01T00:00Z'].every(isZonedDateTime)).toBe(true);
    expect(['2026-01-01', '2026-01-01T00:00:00', 'yesterday', '2026-13-01T00:00:00Z', '2026-02-29T00:00:00Z', '2026-01-01T24:00:00Z', '2026-01-01T00:00:00+25:00'].some(isZonedDateTime)).toBe(false);
    expect(isZonedDateTime('2028-02-29T23:59:59.999Z')).toBe(true);
  });

  it('maps ages to the targetable brackets', () => {
    expect([12, 13, 17, 18, 24, 25, 64, 65, 99].map(ageRangeOf)).toEqual([undefined, '13-17', '13-17', '18-24', '18-24', '25-34', '55-64', '65+', '65+']);
  });
});

describe('API times are UTC', () => {
  it('reads a date as its midnight UTC and a zoneless date-time as UTC', () => {
    expect(toUtcDateTime('2026-03-01')).toBe('2026-03-01T00:00:00Z');
    expect(toUtcDateTime('2026-03-01T12:30:00')).toBe('2026-03-01T12:30:00Z');
    expect(toUtcDateTime('2026-03-01T12:30:00+02:00')).toBe('2026-03-01T12:30:00+02:00');
    expect(toUtcDateTime('yesterday')).toBe('yesterday');
  });
});

describe('control characters in text fields', () => {
  // Each of these was accepted by validator.js's isURL; names took any control character.
  const controls = ['\u0000', '\u0001', '\u0008', '\t', '\n', '\u001b', '\u001f', '\u007f', '\u0085', '\u009f', '\ufffe', '\uffff', '\ud800'];

  it('isHttpUrl accepts absolute http(s) URLs only, without control characters', () => {
    for (const url of ['https://example.com/landing?x=1#a', 'http://127.0.0.1:8080/a', 'https://bücher.example/straße?q=€']) expect(isHttpUrl(url)).toBe(true);
    for (const c of controls) expect([c, isHttpUrl(`https://example.com/a${c}b`)]).toEqual([c, false]);
    for (const url of ['javascript:alert(1)', 'ftp://example.com/', '//example.com/a', '/a', 'https://', 'https://exa mple.com/', 42, null]) expect(isHttpUrl(url)).toBe(false);
  });

  it('isPlainText refuses control characters (and leaves other types to @IsString)', () => {
    expect(isPlainText('Café 😀 — Summer')).toBe(true);
    for (const c of controls) expect([c, isPlainText(`a${c}b`)]).toEqual([c, false]);
    expect(isPlainText(42)).toBe(true);
  });

  it.each([
    [CreateAdvertiserDto, { name: 'Acme\u0007' }, ['name']],
    [CreateCampaignDto, { advertiserId: ID, name: 'C\u0085', startAt: '2026-12-01T00:00:00Z', endAt: '2026-12-31T00:00:00Z' }, ['name']],
    [UpdateLineItemDto, { name: 'L\u001b[31m' }, ['name']],
    [ReviewCreativeDto, { decision: 'approved', note: 'ok\u0000' }, ['note']],
    [UpdateCreativeDto, { name: 'S\uffff', clickThroughUrl: 'https://example.com/\u0000', mediaUrl: 'https://cdn.example.com/a\u007f.mp3' }, ['clickThroughUrl', 'mediaUrl', 'name']],
  ] as Array<[new () => object, object, string[]]>)('%p refuses control characters in %j', async (cls, plain, fields) => {
    expect(await failingFields(cls, plain)).toEqual(fields);
  });
});
