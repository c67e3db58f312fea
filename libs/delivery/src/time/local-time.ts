/** Local calendar facts of an instant in an IANA timezone. */
export interface LocalTime {
  /** 0 (Sunday) .. 6. */
  weekday: number;
  /** 0..23. */
  hour: number;
  /** 'YYYY-MM-DD' of the local day. */
  day: string;
  /** Start of the local day, ms since epoch (UTC). */
  dayStartMs: number;
  /** Start of the next local day, ms since epoch (23, 24 or 25 hours later). */
  dayEndMs: number;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

interface Parts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number;
}

function partsOf(timeZone: string, ms: number): Parts {
  const out: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(ms)) out[p.type] = p.value;
  return {
    year: Number(out.year),
    month: Number(out.month),
    day: Number(out.day),
    hour: Number(out.hour),
    minute: Number(out.minute),
    second: Number(out.second),
    weekday: WEEKDAYS[out.weekday],
  };
}

function ymd(p: Parts): [number, number, number] {
  return [p.year, p.month - 1, p.day];
}

/** Offset of local wall time from UTC at `ms`, in ms (positive east of Greenwich). */
function offsetAt(timeZone: string, ms: number): number {
  const p = partsOf(timeZone, ms);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return wall - Math.floor(ms / 1000) * 1000;
}

/** The instant at which local wall time `y-m-d 00:00` happens (or the first instant of that day, across a DST gap). */
function localMidnight(timeZone: string, y: number, m: number, d: number): number {
  const wall = Date.UTC(y, m - 1, d);
  let guess = wall - offsetAt(timeZone, wall);
  guess = wall - offsetAt(timeZone, guess);
  // Midnight skipped by a DST jump (e.g. America/Santiago): the day starts at its first existing instant.
  for (let i = 0; i < 12 && Date.UTC(...ymd(partsOf(timeZone, guess))) < wall; i++) guess += 900_000;
  return guess;
}

/** Local weekday, hour and day window of `ms` in `timeZone` (Intl, so DST-correct). */
export function localTime(timeZone: string, ms: number): LocalTime {
  const p = partsOf(timeZone, ms);
  const dayStartMs = localMidnight(timeZone, p.year, p.month, p.day);
  const next = new Date(Date.UTC(p.year, p.month - 1, p.day + 1));
  const dayEndMs = localMidnight(timeZone, next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate());
  const day = `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
  return { weekday: p.weekday, hour: p.hour, day, dayStartMs, dayEndMs };
}

/**
 * Per-timezone cache of localTime: a decision needs the local hour and day of a handful of
 * timezones, which change only at hour boundaries, so Intl runs once per timezone per hour.
 */
export class LocalTimeCache {
  private readonly cache = new Map<string, { value: LocalTime; fromMs: number; untilMs: number }>();

  get(timeZone: string, ms: number): LocalTime {
    const hit = this.cache.get(timeZone);
    if (hit && ms >= hit.fromMs && ms < hit.untilMs) return hit.value;
    const value = localTime(timeZone, ms);
    // Valid until the next UTC quarter hour: every real offset is a multiple of 15 minutes, so the local hour cannot change sooner.
    const fromMs = Math.floor(ms / 900_000) * 900_000;
    this.cache.set(timeZone, { value, fromMs, untilMs: fromMs + 900_000 });
    return value;
  }
}

/** True when `timeZone` is an IANA name this runtime knows. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}
