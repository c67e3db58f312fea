import { hasControlCharacter, isTimeZone } from '@app/platform';
import { Transform } from 'class-transformer';
import { IsUrl, ValidateIf, ValidationArguments, ValidationOptions, isURL, registerDecorator } from 'class-validator';

const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

/** ISO 4217 codes the runtime knows (Intl.supportedValuesOf('currency')). */
export function isCurrencyCode(value: unknown): boolean {
  return typeof value === 'string' && /^[A-Z]{3}$/.test(value) && CURRENCIES.has(value);
}

/**
 * IANA timezone names the runtime can format in (including aliases and `UTC`, which
 * Intl.supportedValuesOf omits). Raw offsets such as "+02:00" are refused: they ignore DST.
 */
export function isIanaTimezone(value: unknown): boolean {
  return typeof value === 'string' && /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,2}$/.test(value) && isTimeZone(value);
}

/** http(s) only, with the scheme written out; other schemes (javascript:, ftp:, data:) are refused. */
export const HTTP_URL: NonNullable<Parameters<typeof IsUrl>[0]> = { protocols: ['http', 'https'], require_protocol: true, require_valid_protocol: true, require_tld: false };

/**
 * An absolute http(s) URL with a host, as both validator.js and the WHATWG parser (which the click
 * redirect and players use) read it, and without control characters, which validator.js lets through
 * (U+0000-0008, U+001B, U+007F, U+0085, U+FFFE...) and which break VAST and the Location header; and
 * a valid `xs:anyURI` (isXsdAnyUri), so that every VAST document carrying it validates.
 */
export function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string' || hasControlCharacter(value) || !isURL(value, HTTP_URL)) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' && isXsdAnyUri(value);
  } catch {
    return false;
  }
}

/**
 * RFC 3986's grammar of an http(s) URI, as XML Schema's `xs:anyURI` checks it (libxml2, which VAST
 * validators use, first turns spaces, non-ASCII and the characters <>"{}|\^`' into a harmless one, then
 * parses RFC 3986): percent-escapes are `%` and two hex digits, `[` `]` only around an IP-literal host,
 * one `#`. The WHATWG parser accepts `https://a.example/?y=]`, `/%zz` or `#a#b`; a VAST document
 * carrying them fails the IAB schema.
 */
const PCT = '%[0-9A-Fa-f]{2}';
const UNRESERVED_SUB = "A-Za-z0-9\\-._~!$&'()*+,;=";
const PCHAR = `(?:[${UNRESERVED_SUB}:@]|${PCT})`;
const AUTHORITY = `(?:(?:[${UNRESERVED_SUB}:]|${PCT})*@)?(?:\\[[0-9A-Za-z:.]+\\]|(?:[${UNRESERVED_SUB}]|${PCT})*)(?::[0-9]+)?`;
const ANY_URI = new RegExp(`^https?://${AUTHORITY}(?:/${PCHAR}*)*(?:\\?(?:${PCHAR}|[/?])*)?(?:#(?:${PCHAR}|[/?])*)?$`, 'i');

export function isXsdAnyUri(value: string): boolean {
  return ANY_URI.test(value.replace(/[^\x21-\x7e]|[<>"{}|\\^`']/g, '_'));
}

/** Text without control characters (C0 and C1 controls, DEL, U+FFFE/U+FFFF, lone surrogates): names and notes. Other types are @IsString's to refuse. */
export function isPlainText(value: unknown): boolean {
  return typeof value !== 'string' || !hasControlCharacter(value);
}

/** An ISO-8601 date-time with an explicit zone ("Z" or "+hh:mm"), so it cannot mean local time. */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

/** A real calendar date-time with a zone; Date.parse alone would roll 2026-02-30 over to March. */
export function isZonedDateTime(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const m = DATE_TIME.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second = '0', offsetHours = '0', offsetMinutes = '0'] = m.slice(1);
  const daysInMonth = new Date(Date.UTC(Number(year), Number(month), 0)).getUTCDate();
  return (
    Number(month) >= 1 &&
    Number(month) <= 12 &&
    Number(day) >= 1 &&
    Number(day) <= daysInMonth &&
    Number(hour) <= 23 &&
    Number(minute) <= 59 &&
    Number(second) <= 59 &&
    Number(offsetHours) <= 23 &&
    Number(offsetMinutes) <= 59 &&
    !Number.isNaN(Date.parse(value))
  );
}

function simple(name: string, check: (value: unknown, args: ValidationArguments) => boolean, message: string, options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({ name, target: object.constructor, propertyName, options: { message: `$property ${message}`, ...options }, validator: { validate: check } });
}

export const IsCurrencyCode = (options?: ValidationOptions) => simple('isCurrencyCode', isCurrencyCode, 'must be an ISO 4217 currency code such as USD', options);

export const IsHttpUrl = (options?: ValidationOptions) => simple('isHttpUrl', isHttpUrl, 'must be an absolute http(s) URL without control characters, and a valid URI (RFC 3986: `%` only as %XX, `[` `]` only around an IPv6 host, one `#`)', options);

/** Names: a string with something in it besides whitespace. Other types are @IsString's to refuse. */
export function isNotBlank(value: unknown): boolean {
  return typeof value !== 'string' || value.trim() !== '';
}

export const IsNotBlank = (options?: ValidationOptions) => simple('isNotBlank', isNotBlank, 'must not be empty or only whitespace', options);

export const IsPlainText = (options?: ValidationOptions) => simple('isPlainText', isPlainText, 'must not contain control characters', options);

export const IsIanaTimezone = (options?: ValidationOptions) => simple('isIanaTimezone', isIanaTimezone, 'must be an IANA timezone such as Europe/Paris or UTC', options);

/**
 * API times are UTC: a date alone means its midnight UTC and a date-time without a zone is read as
 * UTC, so neither can silently take the server's local time.
 */
export function toUtcDateTime(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return `${value}T00:00:00Z`;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$/.test(value)) return `${value}Z`;
  return value;
}

export const IsZonedDateTime = (options?: ValidationOptions) => (object: object, propertyName: string) => {
  Transform(({ value }) => toUtcDateTime(value))(object, propertyName);
  simple('isZonedDateTime', isZonedDateTime, 'must be an ISO-8601 date-time, e.g. 2026-01-01T00:00:00Z (UTC unless a zone is given)', options)(object, propertyName);
};

/** A money amount in micros: a positive integer that JSON and JS numbers hold exactly. */
export const IsMicros = (options?: ValidationOptions) =>
  simple('isMicros', (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1, `must be a positive integer (micros) no greater than ${Number.MAX_SAFE_INTEGER}`, options);

/** The date-time in this property must be strictly after the one in `other` (when both are given). */
export const IsAfterProperty = (other: string, options?: ValidationOptions) =>
  simple(
    'isAfterProperty',
    (value, args) => {
      const before = (args.object as Record<string, unknown>)[other];
      if (!isZonedDateTime(value) || !isZonedDateTime(before)) return true;
      return Date.parse(value as string) > Date.parse(before as string);
    },
    `must be after ${other}`,
    options,
  );

/** This number must not exceed the number in `other` (when both are numbers). */
export const IsNotAboveProperty = (other: string, options?: ValidationOptions) =>
  simple(
    'isNotAboveProperty',
    (value, args) => {
      const limit = (args.object as Record<string, unknown>)[other];
      return typeof value !== 'number' || typeof limit !== 'number' || value <= limit;
    },
    `must not be greater than ${other}`,
    options,
  );

/**
 * Optional but not nullable: absent is fine, `null` is validated (and refused) like any wrong value.
 * (class-validator's @IsOptional would let null through to a NOT NULL column.)
 */
export const IsOptionalNotNull = () => ValidateIf((_, value) => value !== undefined);

/** `{<creative id>: weight}` with integer weights 1..1000, ids among `creativeIds` of the same body. */
export const IsCreativeWeights = (options?: ValidationOptions) =>
  simple(
    'isCreativeWeights',
    (value, args) => {
      if (value === undefined) return true;
      if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
      const ids = (args.object as { creativeIds?: unknown }).creativeIds;
      return Object.entries(value).every(
        ([id, w]) => Number.isInteger(w) && (w as number) >= 1 && (w as number) <= 1000 && (!Array.isArray(ids) || ids.includes(id)),
      );
    },
    'must map ids listed in creativeIds to integer weights 1..1000',
    options,
  );

/** This number must be strictly greater than the number in `other` (when both are numbers). */
export const IsAboveProperty = (other: string, options?: ValidationOptions) =>
  simple(
    'isAboveProperty',
    (value, args) => {
      const floor = (args.object as Record<string, unknown>)[other];
      return typeof value !== 'number' || typeof floor !== 'number' || value > floor;
    },
    `must be greater than ${other}`,
    options,
  );

/** Integers with no repeats (days of a daypart). */
export const HasUniqueItems = (options?: ValidationOptions) =>
  simple('hasUniqueItems', (v) => !Array.isArray(v) || new Set(v).size === v.length, 'must not repeat a value', options);
