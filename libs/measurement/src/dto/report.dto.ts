import { IsIanaTimezone } from '@app/campaigns';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, Matches, ValidateIf, ValidationArguments, registerDecorator } from 'class-validator';

export const GRANULARITIES = ['hour', 'day', 'total'] as const;
export type Granularity = (typeof GRANULARITIES)[number];
export const BREAKDOWNS = ['country', 'platform', 'creative'] as const;
export const REACH_METHODS = ['exact', 'sketch'] as const;
/** exact: distinct listeners counted from the reach rows; sketch: merged distinct-count sketches (exact up to 16,384 listeners, 0.29% standard error beyond). */
export type ReachMethod = (typeof REACH_METHODS)[number];
const REACH_METHOD_DOC =
  "How reach was counted: 'exact' (distinct listeners counted from the per-listener reach rows) or 'sketch' (merged distinct-count sketches, used when those rows are gone after RAW_EVENTS_RETENTION_DAYS or too many to count quickly: exact up to 16,384 listeners per row, otherwise an estimate with 0.29% standard error)";
export type Breakdown = (typeof BREAKDOWNS)[number];

/** What a report is about: exactly one of these ids. */
export const REPORT_SCOPE_FIELDS = ['advertiserId', 'campaignId', 'lineItemId'] as const;
const scopesGiven = (query: object) => REPORT_SCOPE_FIELDS.filter((k) => (query as Record<string, unknown>)[k] !== undefined);

/**
 * A scope id (a string of at most 64 characters) and the only one given: checked on every given one,
 * and on advertiserId when none is, so that a missing scope is named too.
 */
function IsTheOnlyScope(): PropertyDecorator {
  return (object: object, propertyName: string | symbol) => {
    const property = String(propertyName);
    ValidateIf((query: object, value: unknown) => value !== undefined || (property === REPORT_SCOPE_FIELDS[0] && scopesGiven(query).length === 0))(object, propertyName);
    registerDecorator({
      name: 'isTheOnlyScope',
      target: object.constructor,
      propertyName: property,
      validator: {
        validate: (value: unknown, args: ValidationArguments) => scopesGiven(args.object).length === 1 && typeof value === 'string' && value.length <= 64,
        defaultMessage: (args: ValidationArguments) => {
          const given = scopesGiven(args.object);
          if (given.length === 1) return `${property} must be a string of at most 64 characters`;
          return `exactly one of ${REPORT_SCOPE_FIELDS.join(', ')} is required${given.length > 1 ? ` (got ${given.join(', ')})` : ''}`;
        },
      },
    });
  };
}

export class ReportQueryDto {
  @ApiPropertyOptional({ description: 'Report on all campaigns of this advertiser (exactly one of advertiserId, campaignId, lineItemId)', example: '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f' })
  @IsTheOnlyScope()
  advertiserId?: string;

  @ApiPropertyOptional({ description: 'Report on one campaign', example: '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e60' })
  @IsTheOnlyScope()
  campaignId?: string;

  @ApiPropertyOptional({ description: 'Report on one line item', example: '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e61' })
  @IsTheOnlyScope()
  lineItemId?: string;

  @ApiPropertyOptional({ description: 'Start, inclusive (ISO-8601 date-time, or a date: midnight in `timezone`); rounded down to the hour (the quarter-hour in zones off the hour). Default: 30 days before `to`', example: '2026-11-01T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ description: 'End, exclusive (ISO-8601 date-time, or a date: midnight in `timezone`); rounded up to the hour (the quarter-hour in zones off the hour). Default: the end of the current hour', example: '2026-12-01T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  @ApiPropertyOptional({ enum: GRANULARITIES, default: 'total', example: 'day', description: 'One row per hour, per UTC day, or one for the whole range' })
  @IsOptional()
  @IsIn(GRANULARITIES)
  granularity?: Granularity;

  @ApiPropertyOptional({ description: 'Comma-separated dimensions to split rows by: country, platform, creative', example: 'country,platform' })
  @IsOptional()
  @Matches(/^(country|platform|creative)(,(country|platform|creative))*$/, { message: 'breakdown must be a comma-separated list of country, platform, creative' })
  breakdown?: string;

  @ApiPropertyOptional({
    description: "IANA zone of days (granularity=day) and of date-only from/to (that zone's midnights). Default: the advertiser's, so that a report of a month gives its invoice's units and amounts",
    example: 'Asia/Kathmandu',
  })
  @IsOptional()
  @IsIanaTimezone()
  timezone?: string;

  @ApiPropertyOptional({ enum: ['json', 'csv'], example: 'json', description: 'csv (or Accept: text/csv) answers CSV with a header row' })
  @IsOptional()
  @IsIn(['json', 'csv'])
  format?: 'json' | 'csv';
}

export class InvalidByReasonDto {
  @ApiProperty({ example: 0, description: 'Token older than TRACKING_TOKEN_TTL' }) expired: number;
  @ApiProperty({ example: 3, description: 'Known bot User-Agent' }) bot: number;
  @ApiProperty({ example: 1, description: 'Impossible sequence: no prior impression, or complete before start' }) sequence: number;
  @ApiProperty({ example: 0, description: 'Abnormal rate from one listener (rate_limit), or from one IP or IP and User-Agent (ip_rate_limit)' }) rateLimit: number;
}

export class ReportRowDto {
  @ApiPropertyOptional({ description: 'Hour (ISO date-time) or day (YYYY-MM-DD, UTC); absent for granularity=total', example: '2026-11-25' })
  period?: string;

  @ApiPropertyOptional({ example: 'US' }) country?: string;
  @ApiPropertyOptional({ example: 'ios' }) platform?: string;
  @ApiPropertyOptional({ example: '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e62' }) creativeId?: string;

  @ApiProperty({ example: 1200, description: 'Valid impressions' }) impressions: number;
  @ApiProperty({ example: 1180 }) starts: number;
  @ApiProperty({ example: 1100 }) firstQuartiles: number;
  @ApiProperty({ example: 1050 }) midpoints: number;
  @ApiProperty({ example: 990 }) thirdQuartiles: number;
  @ApiProperty({ example: 950 }) completes: number;
  @ApiProperty({ example: 12 }) clicks: number;
  @ApiProperty({ example: 0.01, description: 'clicks / impressions' }) ctr: number;
  @ApiProperty({ example: 0.791667, description: 'completes / impressions' }) completionRate: number;
  @ApiProperty({ example: 800, description: 'Distinct listeners with a valid impression in this row' }) reach: number;
  @ApiProperty({ example: 1.5, description: 'impressions / reach' }) frequency: number;
  @ApiProperty({ enum: REACH_METHODS, example: 'exact', description: REACH_METHOD_DOC }) reachMethod: ReachMethod;
  @ApiProperty({ example: 6000000, description: 'Billable spend in micros (CPM impressions, CPC clicks, CPCL completes), never past a budget, rounded down once per row' }) spendMicros: number;
  @ApiProperty({ example: 0, description: "Delivered past a line item's or campaign's budget (late events, clicks above the expected rate), in micros: written off, never billed" })
  writtenOffMicros: number;
  @ApiProperty({ example: 4 }) invalidImpressions: number;
  @ApiProperty({ example: 1 }) invalidClicks: number;
  @ApiProperty({ example: 9, description: 'Invalid events of every type' }) invalidEvents: number;
  @ApiProperty({ type: InvalidByReasonDto }) invalidByReason: InvalidByReasonDto;
}

export class ReportScopeDto {
  @ApiPropertyOptional({ example: '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f' }) advertiserId?: string;
  @ApiPropertyOptional({ example: '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e60' }) campaignId?: string;
  @ApiPropertyOptional({ example: '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e61' }) lineItemId?: string;
}

export class ReportDto {
  @ApiProperty({ type: ReportScopeDto, description: 'What the report covers (the one id given)' })
  scope: ReportScopeDto;

  @ApiProperty({ example: '2026-11-01T00:00:00.000Z' }) from: string;
  @ApiProperty({ example: '2026-12-01T00:00:00.000Z' }) to: string;
  @ApiProperty({ enum: GRANULARITIES, example: 'day' }) granularity: Granularity;
  @ApiProperty({ enum: BREAKDOWNS, isArray: true, example: ['country'] }) breakdown: Breakdown[];
  @ApiProperty({ example: 'America/New_York', description: 'Zone of days and of date-only bounds' }) timezone: string;
  @ApiProperty({ type: String, example: 'USD', nullable: true, description: 'Currency of spendMicros (the advertiser\'s)' }) currency: string | null;

  @ApiProperty({ enum: REACH_METHODS, example: 'exact', description: `${REACH_METHOD_DOC}; the same for every row` })
  reachMethod: ReachMethod;

  @ApiProperty({ type: String, nullable: true, example: '2026-11-25T21:30:00.120Z', description: 'Events received up to this time are in the numbers' })
  dataThrough: string | null;

  @ApiProperty({ type: [ReportRowDto], description: 'Ordered by period then breakdown values; periods without events are omitted (except the single total row)' })
  rows: ReportRowDto[];
}

export class RejectedSummaryRowDto {
  @ApiProperty({ example: 'bad_signature' }) reason: string;
  @ApiProperty({ example: 'impression' }) event: string;
  @ApiProperty({ example: 17 }) count: number;
}

export class RejectedSampleDto {
  @ApiProperty({ example: 'bad_signature' }) reason: string;
  @ApiProperty({ example: 'impression' }) event: string;
  @ApiProperty({ example: '2026-11-25T21:30:00.120Z' }) receivedAt: string;
  @ApiProperty({ example: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', description: 'SHA-256 of the token (the token itself is not kept)' })
  tokenSha256: string;
}

export class RejectedSummaryDto {
  @ApiProperty({ example: '2026-11-01T00:00:00.000Z', description: 'Start of the range, rounded down to the hour (counts are kept per hour)' }) from: string;
  @ApiProperty({ example: '2026-12-01T00:00:00.000Z', description: 'End of the range, rounded up to the hour' }) to: string;
  @ApiProperty({ type: [RejectedSummaryRowDto], description: 'Beacons whose token could not be trusted (attributable to no campaign), every one counted, by reason and event' })
  rows: RejectedSummaryRowDto[];

  @ApiProperty({
    type: [RejectedSampleDto],
    description: 'Some of those beacons, newest first: at most REJECTED_SAMPLES_PER_HOUR are kept per reason and hour, and at most 100 listed',
  })
  samples: RejectedSampleDto[];
}

export class RejectedQueryDto {
  @ApiProperty({ example: '2026-11-01T00:00:00Z' })
  @IsISO8601({ strict: true })
  from: string;

  @ApiProperty({ example: '2026-12-01T00:00:00Z' })
  @IsISO8601({ strict: true })
  to: string;
}
