import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/**
 * `?page=`, which every list takes beside its own `limit` and `cursor` (their defaults and cursor forms
 * differ from list to list): the rows to skip are `pageOffset`'s.
 */
export class PageNumberQueryDto {
  @ApiPropertyOptional({ description: '1-based page number, for clients that page by number instead of by cursor (ignored with `cursor`)', minimum: 1, example: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100000)
  page?: number;
}
