import { PageNumberQueryDto } from '@app/platform';
import { ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min, Validate, ValidatorConstraint, ValidatorConstraintInterface, ValidationArguments } from 'class-validator';
import { dayOf, dayStartMs } from '../export/export-days';

/** A real UTC calendar day, YYYY-MM-DD, and (with the `notFuture` constraint argument) not after today. */
@ValidatorConstraint({ name: 'utcDay' })
export class UtcDayConstraint implements ValidatorConstraintInterface {
  validate(value: unknown, args: ValidationArguments): boolean {
    if (typeof value !== 'string' || dayStartMs(value) === null) return false;
    return !(args.constraints?.[0] === 'notFuture' && value > dayOf(Date.now()));
  }

  defaultMessage(args: ValidationArguments): string {
    const value = args.value as unknown;
    if (typeof value === 'string' && dayStartMs(value) !== null) return `${args.property} must not be in the future (today is ${dayOf(Date.now())} UTC)`;
    return `${args.property} must be a UTC calendar day YYYY-MM-DD`;
  }
}

export class RequestExportDto {
  @ApiProperty({ description: 'The UTC day to export now, YYYY-MM-DD; today or a day still receiving events is exported as partial', example: '2026-11-20' })
  @IsString()
  @Validate(UtcDayConstraint, ['notFuture'])
  date: string;
}

export class ExportListQueryDto extends PageNumberQueryDto {
  @ApiPropertyOptional({ description: 'First day listed, YYYY-MM-DD', example: '2026-11-01' })
  @IsOptional() @Validate(UtcDayConstraint)
  from?: string;

  @ApiPropertyOptional({ description: 'Last day listed, YYYY-MM-DD', example: '2026-11-30' })
  @IsOptional() @Validate(UtcDayConstraint)
  to?: string;

  @ApiPropertyOptional({ description: 'Days per page, 1..100', minimum: 1, maximum: 100, default: 31, example: 31 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(100)
  limit?: number;

  @ApiPropertyOptional({ description: 'The `next` value of the previous page (days before it are listed)', example: '2026-11-10' })
  @IsOptional() @Validate(UtcDayConstraint)
  cursor?: string;
}

export class ExportFileDto {
  @ApiProperty({ example: 'part-0000.parquet' }) name: string;
  @ApiProperty({ example: 500000 }) rows: number;
  @ApiProperty({ description: 'Hex SHA-256 of the file', example: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08' }) sha256: string;
}

export class VerifiedRowsDto {
  @ApiProperty({ description: 'Rows in the manifest (counted from the files)', example: 1250000 }) manifest: number;
  @ApiProperty({ description: "Rows of the day in MySQL at the verification", example: 1250000 }) mysql: number;
}

export class VerifiedFileDto {
  @ApiProperty({ example: 'part-0000.parquet' }) name: string;
  @ApiProperty({ example: true }) ok: boolean;
  @ApiPropertyOptional({ enum: ['missing', 'sha256 differs from the manifest'], example: 'missing' }) problem?: string;
}

export class VerificationDto {
  @ApiProperty({ description: 'Rows, every measure and every file agree', example: true }) ok: boolean;
  @ApiProperty({ example: '2026-11-23T01:06:12.000Z' }) checkedAt: string;
  @ApiProperty({ description: 'The run whose manifest was checked', example: '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f' }) runId: string;
  @ApiProperty({ type: VerifiedRowsDto }) rows: VerifiedRowsDto;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'object', properties: { manifest: { type: 'string' }, mysql: { type: 'string' } }, required: ['manifest', 'mysql'] },
    description: 'The measures that differ, manifest against MySQL (empty when all agree)',
    example: { valid_events: { manifest: '1240000', mysql: '1239999' } },
  })
  differences: Record<string, { manifest: string; mysql: string }>;

  @ApiProperty({ type: VerifiedFileDto, isArray: true }) files: VerifiedFileDto[];
}

@ApiExtraModels(VerificationDto)
export class ExportTableDto {
  @ApiProperty({ enum: ['raw_events', 'rollups_hourly'], example: 'raw_events' })
  table: string;

  @ApiProperty({ enum: ['running', 'exported', 'verified', 'mismatch', 'failed'], example: 'verified' })
  state: string;

  @ApiProperty({ description: 'Exported while the day could still receive events', example: false })
  partial: boolean;

  @ApiProperty({ type: Number, nullable: true, description: 'Rows exported (null while running or failed)', example: 1250000 })
  rows: number | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    nullable: true,
    description: 'Every measure summed over the exported rows, decimal strings',
    example: { valid_events: '1240000', rate_micros: '3125000000000' },
  })
  sums: Record<string, string> | null;

  @ApiProperty({ type: ExportFileDto, isArray: true })
  files: ExportFileDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Why the last run failed', example: null })
  error: string | null;

  @ApiProperty({ allOf: [{ $ref: getSchemaPath(VerificationDto) }], nullable: true, description: 'The last verification: rows and differing measures, manifest against MySQL, and each file against its SHA-256' })
  verification: VerificationDto | null;

  @ApiProperty({ type: String, nullable: true, example: '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f' })
  runId: string | null;

  @ApiProperty({ example: '2026-11-23T01:05:00.000Z' }) startedAt: string;
  @ApiProperty({ type: String, nullable: true, example: '2026-11-23T01:06:10.000Z' }) finishedAt: string | null;
  @ApiProperty({ type: String, nullable: true, example: '2026-11-23T01:06:12.000Z' }) verifiedAt: string | null;
}

export class ExportDayDto {
  @ApiProperty({ example: '2026-11-20' })
  date: string;

  @ApiProperty({
    enum: ['queued', 'running', 'exported', 'verified', 'mismatch', 'failed', 'none'],
    description: "The day's state: queued (a run is waiting), else the least advanced of its tables' states (none: never exported)",
    example: 'verified',
  })
  state: string;

  @ApiProperty({ description: 'Some table of the day was exported while the day was still open', example: false })
  partial: boolean;

  @ApiProperty({ type: Number, nullable: true, description: 'Raw events exported', example: 1250000 })
  rawEvents: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Hourly rollup rows exported', example: 4800 })
  rollupRows: number | null;

  @ApiProperty({ type: ExportTableDto, isArray: true })
  tables: ExportTableDto[];
}

export class ExportRequestedDto extends ExportDayDto {
  @ApiProperty({ description: 'The queued job (GET /v1/ops/exports shows its progress)', example: 'export-day-2026-11-20' })
  jobId: string;

  @ApiProperty({ description: 'The day will be exported as partial: it can still receive events (its tokens have not all expired)', example: false })
  willBePartial: boolean;
}

export class ExportPageDto {
  @ApiProperty({ type: ExportDayDto, isArray: true, description: 'The days of this page' })
  data: ExportDayDto[];

  @ApiProperty({ type: ExportDayDto, isArray: true, deprecated: true, description: 'Deprecated: the same days as `data`, kept for existing clients; read `data`' })
  items: ExportDayDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as cursor for the older days', example: '2026-11-10' })
  next: string | null;
}
