import { compile as compileTrust } from '@fastify/proxy-addr';
import { Type } from 'class-transformer';
import { IsInt, IsString, Matches, Max, Min, MinLength, Validate, ValidateIf, ValidationArguments, ValidatorConstraint, ValidatorConstraintInterface } from 'class-validator';
import type { JsonBodyLimits } from '../http/body-parsers';
import { PlatformConfig } from './platform.config';

/** Comma-separated addresses, CIDRs or proxy-addr's names (TRUST_PROXY, TRUST_DEVICE_IP). */
const ADDRESS = '(loopback|linklocal|uniquelocal|[0-9a-fA-F:.]+(/\\d{1,3})?)';
const ADDRESS_LIST = `${ADDRESS}(\\s*,\\s*${ADDRESS})*`;

/** The development defaults of the secrets: published in the README and .env.example. */
const DEV_SECRETS = { ADMIN_API_KEY: 'dev-admin-key-change-me', TRACKING_SECRET: 'dev-tracking-secret-change-me-0123456789' } as const;

/**
 * With NODE_ENV=production a secret must not be its published development default: anyone could use
 * the admin key, or sign tracking tokens (and spend advertisers' budgets) with the tracking secret.
 */
@ValidatorConstraint({ name: 'notPublishedInProduction' })
class NotPublishedInProduction implements ValidatorConstraintInterface {
  validate(value: unknown, args: ValidationArguments): boolean {
    const name = args.property as keyof typeof DEV_SECRETS;
    return (args.object as ApiConfig).NODE_ENV !== 'production' || value !== DEV_SECRETS[name];
  }

  defaultMessage(args: ValidationArguments): string {
    return `${args.property} is the published development default; set a secret of your own when NODE_ENV=production`;
  }
}

/** Configuration of the API process (apps/api). */
export class ApiConfig extends PlatformConfig {
  @Type(() => Number) @IsInt() @Min(0) @Max(65535)
  PORT = 3000;

  @IsString() @MinLength(16, { message: 'ADMIN_API_KEY must be at least 16 characters' }) @Validate(NotPublishedInProduction)
  ADMIN_API_KEY = DEV_SECRETS.ADMIN_API_KEY;

  @IsString() @MinLength(32, { message: 'TRACKING_SECRET must be at least 32 characters' }) @Validate(NotPublishedInProduction)
  TRACKING_SECRET = DEV_SECRETS.TRACKING_SECRET;

  /** Origin written into tracking URLs; empty means http://localhost:<PORT> (see withDefaults). */
  @ValidateIf((config: ApiConfig) => config.PUBLIC_BASE_URL !== '')
  @Matches(/^https?:\/\/[^\s/]+(:\d+)?$/, { message: 'PUBLIC_BASE_URL must be an http(s) origin without a path, e.g. http://localhost:3000' })
  PUBLIC_BASE_URL = '';

  /** Largest request body accepted, in bytes. */
  @Type(() => Number) @IsInt() @Min(1024) @Max(50 * 1024 * 1024)
  BODY_LIMIT_BYTES = 1048576;

  /**
   * Most ads one listener may hold served but not yet played (no impression) within 10 minutes
   * (fixed windows); past it, decisions for the listener are answered with no fill. 0: no limit.
   */
  @Type(() => Number) @IsInt() @Min(0) @Max(100_000)
  DECISION_LISTENER_LIMIT = 30;

  /** Most ads served to one IP within 10 minutes (fixed windows), whoever the listeners. 0: no limit. */
  @Type(() => Number) @IsInt() @Min(0) @Max(10_000_000)
  DECISION_IP_LIMIT = 2000;

  /**
   * Invalid-traffic rate rules per source address, per minute of event time, counted in Redis across
   * replicas: beyond the limit, a beacon is stored as invalid ('ip_rate_limit'). 0 turns a rule off
   * (e.g. behind server-side ad insertion, where every beacon comes from a few addresses).
   */
  @Type(() => Number) @IsInt() @Min(0) @Max(10_000_000)
  IVT_MAX_IMPRESSIONS_PER_IP_MINUTE = 2000;

  @Type(() => Number) @IsInt() @Min(0) @Max(10_000_000)
  IVT_MAX_CLICKS_PER_IP_MINUTE = 60;

  @Type(() => Number) @IsInt() @Min(0) @Max(10_000_000)
  IVT_MAX_IMPRESSIONS_PER_IP_UA_MINUTE = 600;

  @Type(() => Number) @IsInt() @Min(0) @Max(10_000_000)
  IVT_MAX_CLICKS_PER_IP_UA_MINUTE = 20;

  /** Port of a separate /metrics listener without auth (keep it off the public network); 0: /metrics on PORT behind the admin key only. */
  @Type(() => Number) @IsInt() @Min(0) @Max(65535)
  METRICS_PORT = 0;

  /** Longest a client may take to send a request's headers, ms (Node's headersTimeout); capped at HTTP_REQUEST_TIMEOUT_MS. */
  @Type(() => Number) @IsInt() @Min(100) @Max(600_000)
  HTTP_HEADERS_TIMEOUT_MS = 10_000;

  /** Longest a client may take to send a whole request, headers and body, ms (408 and closed after): 1 MB fits at ~300 kbit/s. */
  @Type(() => Number) @IsInt() @Min(100) @Max(3_600_000)
  HTTP_REQUEST_TIMEOUT_MS = 30_000;

  /** Largest request line plus headers, bytes (414 when the URL alone is too long, else 431). */
  @Type(() => Number) @IsInt() @Min(1024) @Max(1024 * 1024)
  HTTP_MAX_HEADER_BYTES = 16_384;

  /** Failed authentications (unknown or revoked API key) one client IP may make per AUTH_FAILURE_WINDOW_SECONDS before 429. */
  @Type(() => Number) @IsInt() @Min(1) @Max(1_000_000)
  AUTH_FAILURE_LIMIT = 20;

  /** Window of AUTH_FAILURE_LIMIT, seconds, counted in Redis across API replicas (Retry-After says when it ends). */
  @Type(() => Number) @IsInt() @Min(1) @Max(86_400)
  AUTH_FAILURE_WINDOW_SECONDS = 60;

  /** How long an unknown API key is remembered as unknown, ms (no MySQL read for it meanwhile); 0 disables. */
  @Type(() => Number) @IsInt() @Min(0) @Max(600_000)
  AUTH_NEGATIVE_CACHE_TTL_MS = 5_000;

  /** Unknown API keys remembered at most per process (the oldest go first). */
  @Type(() => Number) @IsInt() @Min(1) @Max(1_000_000)
  AUTH_NEGATIVE_CACHE_MAX_ENTRIES = 10_000;

  /** Unverifiable beacons kept as samples in rejected_events per reason and hour (all are counted in rejected_event_counts). */
  @Type(() => Number) @IsInt() @Min(0) @Max(10_000)
  REJECTED_SAMPLES_PER_HOUR = 20;

  /**
   * Deepest nesting of arrays and objects in a JSON body. The deepest legitimate body, a line item's
   * targeting with dayparts (body, targeting, dayparts, daypart, days), is 5 levels deep.
   */
  @Type(() => Number) @IsInt() @Min(5) @Max(1000)
  JSON_MAX_DEPTH = 16;

  /**
   * Most elements of one JSON array or members of one object. The longest legitimate list is a batch
   * of 1,000 events (POST /v1/events); twice that lets the DTOs name the field of a list one too long.
   */
  @Type(() => Number) @IsInt() @Min(1000) @Max(1_000_000)
  JSON_MAX_ITEMS = 2000;

  /**
   * Most values in one JSON body, at any depth (each array element and object member counts one): what
   * bounds the transformation and validation work of one request. The largest legitimate body, a full
   * batch of 1,000 events, holds about 4,000, and validating it costs about as much as 10,000 of anything.
   */
  @Type(() => Number) @IsInt() @Min(5000) @Max(10_000_000)
  JSON_MAX_VALUES = 10000;

  /**
   * Which peers may set the client's IP through X-Forwarded-For (per-IP limits and invalid-traffic
   * rules rely on it): 'loopback' (a proxy on this host), a comma-separated list of addresses or CIDRs
   * of the load balancers, a number of trusted hops, 'true' (anyone: only behind a proxy that
   * overwrites the header) or 'false'.
   */
  @Matches(new RegExp(`^(true|false|\\d{1,2}|${ADDRESS_LIST})$`), {
    message: "TRUST_PROXY must be 'true', 'false', a hop count, or comma-separated addresses/CIDRs (or loopback, linklocal, uniquelocal)",
  })
  TRUST_PROXY = 'loopback';

  /** Fastify's trustProxy option from TRUST_PROXY. */
  trustProxy(): boolean | string | ((address: string, hop: number) => boolean) {
    if (this.TRUST_PROXY === 'true') return true;
    if (this.TRUST_PROXY === 'false') return false;
    if (/^\d+$/.test(this.TRUST_PROXY)) {
      const hops = Number(this.TRUST_PROXY);
      return (_address, hop) => hop < hops;
    }
    return this.TRUST_PROXY;
  }

  /**
   * Which callers may name the listener's IP (`device.ip` of a decision, `ip` of a VAST request) for the
   * per-IP limit of served ads: the hosts of server-side ad insertion, which call on behalf of many
   * listeners. 'loopback', 'linklocal', 'uniquelocal', comma-separated addresses or CIDRs, 'true'
   * (anyone) or 'false'. Matched against the caller's address (after X-Forwarded-For from TRUST_PROXY's
   * peers); anyone else is counted at its own address whatever IP it names, so that an IP it makes up
   * does not lift its limit, nor use up another's.
   */
  @Matches(new RegExp(`^(true|false|${ADDRESS_LIST})$`), {
    message: "TRUST_DEVICE_IP must be 'true', 'false', or comma-separated addresses/CIDRs (or loopback, linklocal, uniquelocal)",
  })
  TRUST_DEVICE_IP = 'loopback';

  /** TRUST_DEVICE_IP as a test of the caller's address. */
  deviceIpTrust(): (address: string) => boolean {
    if (this.TRUST_DEVICE_IP === 'true') return () => true;
    if (this.TRUST_DEVICE_IP === 'false') return () => false;
    const trusted = compileTrust(this.TRUST_DEVICE_IP.split(',').map((part) => part.trim()));
    return (address) => trusted(address, 0);
  }

  /** Defaults that depend on other variables: tracking URLs point at this process unless told otherwise. */
  withDefaults(): this {
    if (this.PUBLIC_BASE_URL === '') this.PUBLIC_BASE_URL = `http://localhost:${this.PORT}`;
    return this;
  }
}

/** The JSON body limits of an API configuration, for the body parsers. */
export function jsonBodyLimits(config: ApiConfig): JsonBodyLimits {
  return { maxDepth: config.JSON_MAX_DEPTH, maxItems: config.JSON_MAX_ITEMS, maxValues: config.JSON_MAX_VALUES };
}
