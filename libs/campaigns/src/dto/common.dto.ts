import { PageNumberQueryDto, UUID_PATTERN } from '@app/platform';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';

export const EXAMPLE_ID = '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f';
export const EXAMPLE_TIME = '2026-11-25T21:30:00.000Z';

/** `?limit=&cursor=` (or `page`): pages of a list, newest first. */
export class ListQueryDto extends PageNumberQueryDto {
  @ApiPropertyOptional({ description: 'Page size, 1..100', minimum: 1, maximum: 100, default: 20, example: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;

  @ApiPropertyOptional({ description: 'The `next` value of the previous page', example: EXAMPLE_ID })
  @IsOptional()
  @Matches(UUID_PATTERN, { message: 'cursor must be the `next` value of a previous page' })
  cursor?: string;
}

/** Who changed a resource and when, and the version to send back in If-Match. */
export class AuditedDto {
  @ApiProperty({ description: 'Bumped on every change; also sent as the weak ETag W/"<version>"', example: 1 })
  version: number;

  @ApiProperty({ example: EXAMPLE_TIME })
  createdAt: string;

  @ApiProperty({ example: EXAMPLE_TIME })
  updatedAt: string;

  @ApiProperty({ description: '"admin" or "key:<api key id>"', example: 'admin' })
  createdBy: string;

  @ApiProperty({ description: '"admin", "key:<api key id>" or "system" (automatic completion)', example: `key:${EXAMPLE_ID}` })
  updatedBy: string;
}

export class PageDto {
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` to get the next page; null on the last page', example: EXAMPLE_ID })
  next: string | null;
}

export class ActivationConflictDto {
  @ApiProperty({ example: 409 })
  statusCode: number;

  @ApiProperty({ example: 'Conflict' })
  error: string;

  @ApiProperty({ example: 'cannot activate: no approved creative assigned' })
  message: string;

  @ApiProperty({ description: 'Every condition that is not met', example: ['no approved creative assigned'] })
  reasons: string[];
}
