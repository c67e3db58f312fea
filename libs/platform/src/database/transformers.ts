import type { ValueTransformer } from 'typeorm';

/** BIGINT columns (micros, counters) as JS numbers; values stay within Number.MAX_SAFE_INTEGER by validation. */
export const bigintNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? value : Number(value)),
};
