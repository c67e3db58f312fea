import type { CreativeFormat } from '@app/campaigns';

/** A decision request, normalised once (lower/upper case, defaults) so matching compares plain values. */
export interface DecisionContext {
  placement: string;
  slots: number;
  userId: string;
  age?: number;
  /** Lower case. */
  gender?: string;
  /** Lower case. */
  platform: string;
  userAgent?: string;
  ip?: string;
  /** ISO 3166-1 alpha-2, upper case. */
  country: string;
  /** Lower case. */
  region?: string;
  /** Lower case. */
  genre?: string;
  /** Lower case, without duplicates. */
  keywords: string[];
  /** Creative formats the response may contain; undefined = any. */
  formats?: CreativeFormat[];
}
