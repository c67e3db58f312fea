import { Type } from 'class-transformer';
import { IsInt, IsString, Matches, Max, Min, MinLength, ValidateIf } from 'class-validator';
import type { JsonBodyLimits } from '../http/body-parsers';
import { PlatformConfig } from './platform.config';

/** Configuration of the API process (apps/api). */
export class ApiConfig extends PlatformConfig {
  @Type(() => Number) @IsInt() @Min(0) @Max(65535)
  PORT = 3000;

  @IsString() @MinLength(16, { message: 'ADMIN_API_KEY must be at least 16 characters' })
  ADMIN_API_KEY = 'dev-admin-key-change-me';

  @IsString() @MinLength(32, { message: 'TRACKING_SECRET must be at least 32 characters' })
  TRACKING_SECRET = 'dev-tracking-secret-change-me-0123456789';

  /** Lifetime of a tracking token in seconds (48 h: offline listening reports late). */
  @Type(() => Number) @IsInt() @Min(60) @Max(30 * 24 * 3600)
  TRACKING_TOKEN_TTL = 172800;

  /** Origin written into tracking URLs; empty means http://localhost:<PORT> (see withDefaults). */
  @ValidateIf((config: ApiConfig) => config.PUBLIC_BASE_URL !== '')
  @Matches(/^https?:\/\/[^\s/]+(:\d+)?$/, { message: 'PUBLIC_BASE_URL must be an http(s) origin without a path, e.g. http://localhost:3000' })
  PUBLIC_BASE_URL = '';

  /** Largest request body accepted, in bytes. */
  @Type(() => Number) @IsInt() @Min(1024) @Max(50 * 1024 * 1024)
  BODY_LIMIT_BYTES = 1048576;

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
