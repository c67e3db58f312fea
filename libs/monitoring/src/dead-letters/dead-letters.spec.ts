import { deadLetterError, deadLetterIdOfRetry, retryJobIdOf } from './dead-letters.service';

describe('dead letters', () => {
  const id = '01890a5d-ac96-7000-8000-000000000001';

  it('names each retry of a letter by its id, and finds the letter again from the job id', () => {
    const first = retryJobIdOf(id, 1_700_000_000_000);
    const second = retryJobIdOf(id, 1_700_000_000_001);
    expect(first).not.toBe(second);
    expect(deadLetterIdOfRetry(first)).toBe(id);
    expect(deadLetterIdOfRetry(second)).toBe(id);
  });

  it('sees no letter behind an ordinary job', () => {
    expect(deadLetterIdOfRetry(undefined)).toBeNull();
    expect(deadLetterIdOfRetry('probe-1')).toBeNull();
    expect(deadLetterIdOfRetry(`x-${retryJobIdOf(id, 1)}`)).toBeNull();
  });

  it('keeps the error class unless it is a plain Error, and at most 60,000 characters', () => {
    expect(deadLetterError(new Error('boom'))).toBe('boom');
    expect(deadLetterError(new TypeError('bad'))).toBe('TypeError: bad');
    expect(deadLetterError(new Error('x'.repeat(70_000)))).toHaveLength(60_000);
  });
});
