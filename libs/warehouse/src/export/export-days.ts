/** UTC days of the export, as YYYY-MM-DD strings, and when a day stops receiving events. */

export const DAY_MS = 86_400_000;

/**
 * Margin after a day's last token has expired before the day counts as closed: beacons received just
 * before the expiry are still being stored and rolled up (the aggregation freshness SLA is a minute).
 */
export const CLOSE_GRACE_MS = 3_600_000;

const DAY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** 00:00 UTC of a YYYY-MM-DD day in ms, or null when the text is not a real calendar day. */
export function dayStartMs(day: string): number | null {
  const m = DAY_PATTERN.exec(day);
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isNaN(ms) || dayOf(ms) !== day ? null : ms;
}

/** The UTC day of a time, YYYY-MM-DD. */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function addDays(day: string, days: number): string {
  return dayOf(requireDay(day) + days * DAY_MS);
}

function requireDay(day: string): number {
  const ms = dayStartMs(day);
  if (ms === null) throw new Error(`not a YYYY-MM-DD day: ${JSON.stringify(day)}`);
  return ms;
}

/**
 * When a day closes: a decision made in its last millisecond carries a token valid for
 * TRACKING_TOKEN_TTL, so its events (offline listening) may arrive until then; plus CLOSE_GRACE_MS.
 */
export function closesAtMs(day: string, tokenTtlSeconds: number): number {
  return requireDay(day) + DAY_MS + tokenTtlSeconds * 1000 + CLOSE_GRACE_MS;
}

/** Whether a day can still receive events at `nowMs` (an export of it is partial). */
export function isOpen(day: string, nowMs: number, tokenTtlSeconds: number): boolean {
  return nowMs < closesAtMs(day, tokenTtlSeconds);
}

/** The latest day closed at `nowMs`. */
export function lastClosedDay(nowMs: number, tokenTtlSeconds: number): string {
  let day = dayOf(nowMs);
  while (isOpen(day, nowMs, tokenTtlSeconds)) day = addDays(day, -1);
  return day;
}

/** Every day from `from` to `to`, both included (none when from > to). */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let ms = requireDay(from), end = requireDay(to); ms <= end; ms += DAY_MS) out.push(dayOf(ms));
  return out;
}
