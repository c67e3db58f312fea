/**
 * Calendar arithmetic in IANA time zones with Intl only (no tz database of our own): offsets, local
 * midnights (DST gaps included) and calendar months as UTC instants.
 */

const QUARTER_MS = 15 * 60_000;
const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True for a zone Intl knows ('UTC' included). */
export function isTimeZone(timeZone: string): boolean {
  if (typeof timeZone !== 'string' || timeZone.length === 0 || timeZone.length > 64) return false;
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC at an instant, ms (local wall clock = instant + offset). */
export function offsetMs(timeZone: string, instantMs: number): number {
  const at = Math.floor(instantMs / 1000) * 1000;
  const p: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(at)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - at;
}

/** The wall clock reading of an instant in a zone, as if it were UTC (ms). */
export function wallMs(timeZone: string, instantMs: number): number {
  return instantMs + offsetMs(timeZone, instantMs);
}

/**
 * The first instant whose wall clock reads at least `wall` (a UTC-encoded local date-time): the local
 * time itself, its first occurrence when clocks fall back over it, or the end of the gap when clocks
 * jump over it (a midnight skipped by DST starts the day at the jump).
 */
export function instantOfWall(timeZone: string, wall: number): number {
  const before = wall - offsetMs(timeZone, wall - DAY_MS);
  const after = wall - offsetMs(timeZone, wall + DAY_MS);
  const exact = [before, after].filter((t) => wallMs(timeZone, t) === wall).sort((a, b) => a - b);
  if (exact.length > 0) return exact[0];
  // In a gap: the transition lies between the two candidates; find it to the second.
  let lo = Math.min(before, after);
  let hi = Math.max(before, after);
  while (hi - lo > 1000) {
    const mid = Math.floor((lo + hi) / 2000) * 1000;
    if (wallMs(timeZone, mid) >= wall) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Start of a local calendar day, ms since epoch. */
export function localDayStart(timeZone: string, year: number, month: number, day: number): number {
  return instantOfWall(timeZone, Date.UTC(year, month - 1, day));
}

/** `YYYY-MM`, 2000-01 .. 2999-12. */
export const PERIOD_PATTERN = /^(2\d{3})-(0[1-9]|1[0-2])$/;

export interface MonthRange {
  period: string;
  /** First instant of the month in the zone (inclusive), ms. */
  startMs: number;
  /** First instant of the next month (exclusive), ms. */
  endMs: number;
}

/** A calendar month (`YYYY-MM`) of a zone as UTC instants [start, end). */
export function monthRange(period: string, timeZone: string): MonthRange {
  const m = PERIOD_PATTERN.exec(period);
  if (!m) throw new RangeError(`period must be YYYY-MM, got ${JSON.stringify(period)}`);
  const year = Number(m[1]);
  const month = Number(m[2]);
  return { period, startMs: localDayStart(timeZone, year, month, 1), endMs: localDayStart(timeZone, month === 12 ? year + 1 : year, month === 12 ? 1 : month + 1, 1) };
}

/** The `YYYY-MM` an instant falls in, in a zone. */
export function periodOf(instantMs: number, timeZone: string): string {
  return new Date(wallMs(timeZone, instantMs)).toISOString().slice(0, 7);
}

/** The month before `YYYY-MM`. */
export function previousPeriod(period: string): string {
  const [y, m] = period.split('-').map(Number);
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

/** The month after `YYYY-MM`. */
export function nextPeriod(period: string): string {
  const [y, m] = period.split('-').map(Number);
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
}

/** True when an instant is on a quarter-hour of UTC (every zone's offset has been a multiple of 15 minutes since 1972). */
export function isQuarterHour(instantMs: number): boolean {
  return instantMs % QUARTER_MS === 0;
}

/**
 * The spans of [fromMs, toMs) over which the zone's offset is constant, in order: a local period
 * expression is then one CASE branch per span (a month has at most two DST changes).
 */
export function offsetSpans(timeZone: string, fromMs: number, toMs: number): Array<{ fromMs: number; toMs: number; offsetMs: number }> {
  const spans: Array<{ fromMs: number; toMs: number; offsetMs: number }> = [];
  let start = fromMs;
  let offset = offsetMs(timeZone, start);
  // Offsets change at most a few times a year, never twice within 6 hours: step, then bisect each change.
  const step = 6 * 3600_000;
  for (let t = fromMs + step; ; t += step) {
    const probe = Math.min(t, toMs);
    const next = probe >= toMs ? offset : offsetMs(timeZone, probe);
    if (next !== offset) {
      let lo = probe - step;
      let hi = probe;
      while (hi - lo > 1000) {
        const mid = Math.floor((lo + hi) / 2000) * 1000;
        if (offsetMs(timeZone, mid) === offset) lo = mid;
        else hi = mid;
      }
      spans.push({ fromMs: start, toMs: hi, offsetMs: offset });
      start = hi;
      offset = next;
    }
    if (probe >= toMs) break;
  }
  spans.push({ fromMs: start, toMs, offsetMs: offset });
  return spans;
}
