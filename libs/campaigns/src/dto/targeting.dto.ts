import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { COUNTRY_CODES } from '../validation/country-codes';
import { PLATFORMS, Platform } from '../domain/enums';
import { AGE_RANGES, GENDERS } from '../validation/targeting-values';
import { HasUniqueItems, IsAboveProperty } from '../validation/validators';

export const MAX_FREQUENCY_CAPS = 5;

/** An optional, non-empty list of at most `maxSize` items; the decorators that follow check the items. */
const OptionalList = (maxSize: number) => applyDecorators(IsOptional(), IsArray(), ArrayNotEmpty(), ArrayMaxSize(maxSize));

/** An optional list of keywords: strings of 1..64 characters. */
const KeywordList = (description: string, example: string[]) =>
  applyDecorators(
    ApiPropertyOptional({ description, type: [String], example }),
    OptionalList(200),
    IsString({ each: true }),
    MinLength(1, { each: true }),
    MaxLength(64, { each: true }),
  );

export class FrequencyCapDto {
  @ApiProperty({ description: 'Impressions allowed per listener in the period', minimum: 1, maximum: 1_000_000, example: 3 })
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  maxImpressions: number;

  @ApiProperty({ description: 'Length of the rolling period, 60 s .. 365 days', minimum: 60, maximum: 31_536_000, example: 86_400 })
  @IsInt()
  @Min(60)
  @Max(31_536_000)
  periodSeconds: number;
}

export class KeywordsDto {
  @KeywordList('At least one of these (lower-cased)', ['running', 'fitness'])
  any?: string[];

  @KeywordList('All of these', ['summer'])
  all?: string[];

  @KeywordList('None of these', ['news'])
  none?: string[];
}

export class DaypartDto {
  @ApiProperty({ description: 'Days of the week, 0 = Sunday .. 6, no repeats', type: [Number], example: [1, 2, 3, 4, 5] })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(7)
  @IsInt({ each: true })
  @Min(0, { each: true })
  @Max(6, { each: true })
  @HasUniqueItems()
  days: number[];

  @ApiProperty({ description: 'First hour included, 0..23, in the advertiser timezone', minimum: 0, maximum: 23, example: 6 })
  @IsInt()
  @Min(0)
  @Max(23)
  startHour: number;

  @ApiProperty({ description: 'First hour excluded, 1..24, after startHour', minimum: 1, maximum: 24, example: 10 })
  @IsInt()
  @Min(1)
  @Max(24)
  @IsAboveProperty('startHour')
  endHour: number;
}

/** Each field optional and ANDed with the others; the values of one field are ORed. Omit a field to not restrict on it. */
export class TargetingDto {
  @ApiPropertyOptional({ description: 'ISO 3166-1 alpha-2 country codes', type: [String], example: ['US', 'CA'] })
  @OptionalList(COUNTRY_CODES.length)
  @IsIn(COUNTRY_CODES, { each: true, message: 'countries must contain ISO 3166-1 alpha-2 codes such as US (upper case)' })
  @HasUniqueItems()
  countries?: string[];

  @ApiPropertyOptional({ description: 'Regions as the decision request sends them (ISO 3166-2 subdivision such as US-CA)', type: [String], example: ['US-CA', 'US-NY'] })
  @OptionalList(500)
  @IsString({ each: true })
  @Matches(/^[A-Za-z0-9][A-Za-z0-9 .-]{0,63}$/, { each: true, message: 'regions must contain region codes of 1..64 letters, digits, "-" or "."' })
  regions?: string[];

  @ApiPropertyOptional({ enum: PLATFORMS, isArray: true, example: ['ios', 'android'] })
  @IsOptional()
  @IsArray()
  @ArrayNotEmpty()
  @IsIn(PLATFORMS, { each: true })
  @HasUniqueItems()
  platforms?: Platform[];

  @ApiPropertyOptional({ enum: AGE_RANGES, isArray: true, example: ['18-24', '25-34'] })
  @IsOptional()
  @IsArray()
  @ArrayNotEmpty()
  @IsIn(AGE_RANGES, { each: true })
  @HasUniqueItems()
  ageRanges?: string[];

  @ApiPropertyOptional({ enum: GENDERS, isArray: true, example: ['female'] })
  @IsOptional()
  @IsArray()
  @ArrayNotEmpty()
  @IsIn(GENDERS, { each: true })
  @HasUniqueItems()
  genders?: string[];

  @ApiPropertyOptional({ description: 'Content genres (lower-cased)', type: [String], example: ['pop', 'indie'] })
  @OptionalList(100)
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(64, { each: true })
  genres?: string[];

  @ApiPropertyOptional({ type: KeywordsDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => KeywordsDto)
  keywords?: KeywordsDto;

  @ApiPropertyOptional({ type: [DaypartDto], description: 'When to serve, in the advertiser timezone' })
  @OptionalList(28)
  @ValidateNested({ each: true })
  @Type(() => DaypartDto)
  dayparts?: DaypartDto[];
}
