/** Age brackets a line item can target; delivery maps a listener's age to one of them. */
export const AGE_RANGES = ['13-17', '18-24', '25-34', '35-44', '45-54', '55-64', '65+'] as const;

/** Genders a line item can target (as declared by the listener's profile). */
export const GENDERS = ['female', 'male', 'non-binary'] as const;

/** The age bracket of an age in years, or undefined below 13. */
export function ageRangeOf(age: number): (typeof AGE_RANGES)[number] | undefined {
  if (age < 13) return undefined;
  if (age <= 17) return '13-17';
  if (age <= 24) return '18-24';
  if (age <= 34) return '25-34';
  if (age <= 44) return '35-44';
  if (age <= 54) return '45-54';
  if (age <= 64) return '55-64';
  return '65+';
}
