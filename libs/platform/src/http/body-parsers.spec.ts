import Fastify from 'fastify';
import { PROTOTYPE_KEYS_MESSAGE, controlCharacterProblem, jsonLimitProblem, parseForm, parseGuardedJson } from './body-parsers';

const limits = { maxDepth: 16, maxItems: 2000, maxValues: 10000 };
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('jsonLimitProblem', () => {
  it('lets through what the API accepts: a line item with dayparts (5 levels), a 1,000-event batch', () => {
    const lineItem = { name: 'L', targeting: { countries: ['US', 'CA'], dayparts: [{ days: [1, 2, 3], startHour: 6, endHour: 10 }], keywords: { any: ['a'] } } };
    expect(jsonLimitProblem(JSON.stringify(lineItem), limits)).toBeUndefined();
    const events = { events: Array.from({ length: 1000 }, (_, i) => ({ event: 'impression', token: `t${i}`, occurredAt: 1_700_000_000_000 })) };
    expect(jsonLimitProblem(JSON.stringify(events), limits)).toBeUndefined();
    expect(jsonLimitProblem(nested(16), limits)).toBeUndefined();
    expect(jsonLimitProblem('[]', limits)).toBeUndefined();
    expect(jsonLimitProblem('"x"', limits)).toBeUndefined();
  });

  it('refuses nesting deeper than maxDepth, whatever the brackets', () => {
    expect(jsonLimitProblem(nested(17), limits)).toBe('JSON body is nested deeper than 16 levels');
    expect(jsonLimitProblem(`${'{"a":'.repeat(17)}1${'}'.repeat(17)}`, limits)).toMatch(/deeper than 16/);
    expect(jsonLimitProblem('['.repeat(500_000), limits)).toMatch(/deeper than 16/);
  });

  it('refuses an array or object of more than maxItems, and more than maxValues in all', () => {
    expect(jsonLimitProblem(`[${Array(2000).fill('{}').join(',')}]`, limits)).toBeUndefined();
    expect(jsonLimitProblem(`[${Array(2001).fill('{}').join(',')}]`, limits)).toBe('JSON body has an array or object of more than 2000 items');
    const members = Array.from({ length: 2001 }, (_, i) => `"k${i}":1`).join(',');
    expect(jsonLimitProblem(`{${members}}`, limits)).toMatch(/more than 2000 items/);
    // Spread over many arrays of 1,000: within the per-structure limit, not within the total.
    const wide = `[${Array(12).fill(`[${Array(1000).fill('0').join(',')}]`).join(',')}]`;
    expect(jsonLimitProblem(wide, limits)).toBe('JSON body has more than 10000 values');
  });

  it('ignores brackets and commas inside strings, escaped quotes included', () => {
    expect(jsonLimitProblem(JSON.stringify({ name: `${'['.repeat(100)}","${','.repeat(5000)}\\"[[[` }), limits)).toBeUndefined();
  });

  it('reads a megabyte within limits to the end (long strings skipped), refuses a hostile one at its first excess', () => {
    const withinLimits = JSON.stringify({ events: Array.from({ length: 1000 }, () => ({ event: 'impression', token: `${'x'.repeat(1000)}[{,` })) });
    expect(jsonLimitProblem(withinLimits, limits)).toBeUndefined();
    expect(jsonLimitProblem(`[${Array(349_000).fill('{}').join(',')}]`, limits)).toMatch(/more than 2000 items/);
    expect(jsonLimitProblem('['.repeat(1_000_000), limits)).toMatch(/deeper/);
  });
});

describe('controlCharacterProblem', () => {
  it.each(['\u0000', '\u0001', '\u0008', '\t', '\n', '\r', '\u001b', '\u001f', '\u007f', '\u0085', '\u009f', '\ufffe', '\uffff', '\ud800', '\udfff'].map((c) => [c.charCodeAt(0).toString(16), c]))(
    'refuses U+%s and names the field',
    (_, c) => {
      expect(controlCharacterProblem({ name: 'ok', targeting: { keywords: { any: ['fine', `bad${c}`] } } })).toMatch(/^targeting\.keywords\.any\[1\]: must not contain control characters \(U\+[0-9A-F]{4} at index 3\)$/);
    },
  );

  it('accepts any other text, astral characters included', () => {
    expect(controlCharacterProblem({ name: 'Café €5 😀 日本 \u00a0', n: 1, b: true, z: null, list: [] })).toBeUndefined();
  });

  it('checks field names and bare strings too', () => {
    expect(controlCharacterProblem({ user: { 'i\u0000d': 'x' } })).toMatch(/^user: a field name must not contain control characters/);
    expect(controlCharacterProblem('a\u0007')).toMatch(/^body: /);
  });
});

describe('parseGuardedJson', () => {
  const parse = Fastify().getDefaultJsonParser('error', 'error');
  const run = (text: string, notJson?: string) =>
    new Promise<{ err: Error | null; body?: unknown }>((resolve) => parseGuardedJson(parse, limits, {}, text, (err, body) => resolve({ err, body }), notJson));

  it('parses JSON, an empty body as none, and refuses prototype poisoning as Fastify does', async () => {
    expect(await run('{"a":[1,"x"]}')).toEqual({ err: null, body: { a: [1, 'x'] } });
    expect(await run('  ')).toEqual({ err: null, body: undefined });
    expect((await run('{"__proto__":{"x":1}}')).err).toMatchObject({ status: 400, message: PROTOTYPE_KEYS_MESSAGE });
    expect((await run('{"constructor":{"prototype":{"x":1}}}', 'body must be JSON')).err).toMatchObject({ status: 400, message: PROTOTYPE_KEYS_MESSAGE });
    expect((await run('{"a":')).err).toMatchObject({ statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY' });
  });

  it('answers 400 naming the limit or the field', async () => {
    const deep = await run(nested(10_000));
    expect(deep.err).toMatchObject({ status: 400, message: 'JSON body is nested deeper than 16 levels' });
    const control = await run('{"name":"a\\u0000b"}');
    expect(control.err).toMatchObject({ status: 400, message: 'name: must not contain control characters (U+0000 at index 1)' });
    expect((await run('events=1', 'body must be JSON')).err).toMatchObject({ status: 400, message: 'body must be JSON' });
  });
});

describe('parseForm', () => {
  it('reads fields as Nest does, a repeated name as a list, within maxItems', () => {
    expect(parseForm('a=1&b=x%20y&a=2&a=3', 10)).toEqual({ a: ['1', '2', '3'], b: 'x y' });
    expect(parseForm('a=1&a=1&a=1', 2)).toBe('form body has more than 2 fields');
    expect(parseForm('__proto__=1', 2)).toMatch(/prototype/);
  });
});
