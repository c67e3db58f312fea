import { DECISION_FORMATS, DECISION_PLATFORMS, MAX_SLOTS } from './decision-request.dto';

/**
 * A conservative fast path for the hottest validation of the platform: true only when `body`
 * certainly satisfies every rule of DecisionRequestDto (including "no unknown fields"). Anything it
 * is unsure about (non-ASCII text, nulls, unusual shapes) returns false and goes through the
 * class-validator pipe, which remains the one source of error messages. Checked against the pipe by
 * a property test (decision-request.hand-written-validator.spec.ts): it never accepts what the pipe rejects.
 */
export function isCertainlyValidDecisionRequest(body: unknown): boolean {
  if (!isPlain(body) || !onlyKeys(body, TOP)) return false;
  if (!text(body.placement, 1, 128)) return false;
  if (body.slots !== undefined && !int(body.slots, 1, MAX_SLOTS)) return false;
  const { user, device, geo, context, format } = body;
  if (!isPlain(user) || !onlyKeys(user, USER) || !text(user.id, 1, 128)) return false;
  if (user.age !== undefined && !int(user.age, 0, 130)) return false;
  if (user.gender !== undefined && !text(user.gender, 0, 32)) return false;
  if (!isPlain(device) || !onlyKeys(device, DEVICE) || !PLATFORMS.has(device.platform as string)) return false;
  if (device.userAgent !== undefined && !text(device.userAgent, 0, 512)) return false;
  if (device.ip !== undefined && !text(device.ip, 0, 64)) return false;
  if (!isPlain(geo) || !onlyKeys(geo, GEO) || typeof geo.country !== 'string' || !COUNTRY.test(geo.country)) return false;
  if (geo.region !== undefined && !text(geo.region, 0, 64)) return false;
  if (context !== undefined) {
    if (!isPlain(context) || !onlyKeys(context, CONTEXT)) return false;
    if (context.genre !== undefined && !text(context.genre, 0, 64)) return false;
    if (context.keywords !== undefined) {
      const keywords = context.keywords;
      if (!Array.isArray(keywords) || keywords.length > 50 || !keywords.every((k) => text(k, 0, 64))) return false;
    }
  }
  if (format !== undefined && !FORMATS.has(format as string)) return false;
  return true;
}

const TOP = new Set(['placement', 'slots', 'user', 'device', 'geo', 'context', 'format']);
const USER = new Set(['id', 'age', 'gender']);
const DEVICE = new Set(['platform', 'userAgent', 'ip']);
const GEO = new Set(['country', 'region']);
const CONTEXT = new Set(['genre', 'keywords']);
const PLATFORMS = new Set<string>(DECISION_PLATFORMS);
const FORMATS = new Set<string>(DECISION_FORMATS);
const COUNTRY = /^[A-Za-z]{2}$/;
// Printable ASCII only: lengths then mean the same to class-validator (which counts code points).
const ASCII = /^[\x20-\x7e]*$/;

type Plain = Record<string, unknown>;

function isPlain(value: unknown): value is Plain {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function onlyKeys(value: Plain, allowed: Set<string>): boolean {
  for (const key in value) if (!allowed.has(key) || value[key] === null) return false;
  return true;
}

function text(value: unknown, min: number, max: number): boolean {
  return typeof value === 'string' && value.length >= min && value.length <= max && ASCII.test(value);
}

function int(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}
