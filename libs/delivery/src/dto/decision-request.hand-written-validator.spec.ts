import { createValidationPipe } from '@app/platform';
import fc from 'fast-check';
import { DecisionRequestDto } from './decision-request.dto';
import { isCertainlyValidDecisionRequest } from './decision-request.hand-written-validator';

const pipe = createValidationPipe();

async function pipeAccepts(body: unknown): Promise<boolean> {
  try {
    await pipe.transform(body, { type: 'body', metatype: DecisionRequestDto });
    return true;
  } catch {
    return false;
  }
}

const valid = {
  placement: 'between-songs',
  slots: 2,
  user: { id: 'listener-1', age: 30, gender: 'female' },
  device: { platform: 'ios', userAgent: 'Player/1.0', ip: '203.0.113.7' },
  geo: { country: 'US', region: 'CA' },
  context: { genre: 'rock', keywords: ['running', 'summer'] },
  format: 'audio',
};

const anyValue = fc.oneof(
  fc.string({ maxLength: 140 }),
  fc.string({ unit: 'grapheme', maxLength: 70 }),
  fc.integer({ min: -5, max: 200 }),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(fc.string({ maxLength: 70 }), { maxLength: 55 }),
  fc.constantFrom('ios', 'web', 'toaster', 'US', 'usa', 'audio', 'hologram', ''),
  fc.object({ maxDepth: 1 }),
);

/** A valid request with one field (at any depth) replaced, added or removed. */
const mutated = fc
  .tuple(fc.constantFrom('placement', 'slots', 'user', 'device', 'geo', 'context', 'format', 'extra', 'user.id', 'user.age', 'user.gender', 'user.extra', 'device.platform', 'device.userAgent', 'device.ip', 'geo.country', 'geo.region', 'context.genre', 'context.keywords', 'context.extra'), anyValue)
  .map(([path, value]) => {
    const body = structuredClone(valid) as Record<string, any>;
    const [a, b] = path.split('.');
    if (b === undefined) body[a] = value;
    else body[a][b] = value;
    return body;
  });

describe('decision request fast path', () => {
  it('accepts the common valid request', async () => {
    expect(isCertainlyValidDecisionRequest(valid)).toBe(true);
    expect(isCertainlyValidDecisionRequest({ placement: 'p', user: { id: 'u' }, device: { platform: 'web' }, geo: { country: 'de' } })).toBe(true);
  });

  it('never accepts what the class-validator pipe rejects (and agrees on most inputs)', async () => {
    let agreed = 0;
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(mutated, async (body) => {
        const fast = isCertainlyValidDecisionRequest(body);
        const slow = await pipeAccepts(body);
        runs++;
        if (fast === slow) agreed++;
        if (fast) expect(slow).toBe(true);
      }),
      { numRuns: 3000 },
    );
    // Disagreements are the fast path declining (null optionals, non-ASCII text): the pipe then decides.
    expect(agreed / runs).toBeGreaterThan(0.6);
  });
});
