import { CREATIVE_FORMATS, PLATFORMS } from '@app/campaigns';
import type { CreativeFormat, Platform } from '@app/campaigns';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsDefined,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';

const splitList = ({ value }: { value: unknown }) =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v.length > 0)
    : value;

export const DECISION_PLATFORMS: readonly Platform[] = PLATFORMS;
export const DECISION_FORMATS: readonly CreativeFormat[] = CREATIVE_FORMATS;
export const MAX_SLOTS = 10;

export class DecisionUserDto {
  @ApiProperty({ description: 'Stable listener id (pseudonymous); frequency caps count per id', example: 'listener-8f3a2c' })
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  id: string;

  @ApiPropertyOptional({ description: 'Age in years, matched against ageRanges targeting', minimum: 0, maximum: 130, example: 29 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(130)
  age?: number;

  @ApiPropertyOptional({ description: 'Declared gender, matched against genders targeting', example: 'female' })
  @IsOptional()
  @IsString()
  @MaxLength(32)
  gender?: string;
}

export class DecisionDeviceDto {
  @ApiProperty({ enum: DECISION_PLATFORMS, example: 'ios' })
  @IsIn(DECISION_PLATFORMS)
  platform: Platform;

  @ApiPropertyOptional({ description: 'User agent of the listening device', example: 'Spotify/8.9.10 iOS/17.2 (iPhone15,2)' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  userAgent?: string;

  @ApiPropertyOptional({ description: 'IP address of the listening device', example: '203.0.113.7' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  ip?: string;
}

export class DecisionGeoDto {
  @ApiProperty({ description: 'ISO 3166-1 alpha-2 country code', example: 'US' })
  @Matches(/^[A-Za-z]{2}$/, { message: 'country must be an ISO 3166-1 alpha-2 code such as US' })
  country: string;

  @ApiPropertyOptional({ description: 'Region code (e.g. CA or US-CA)', example: 'CA' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  region?: string;
}

export class DecisionContextDto {
  @ApiPropertyOptional({ description: 'Genre of the content around the ad', example: 'rock' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  genre?: string;

  @ApiPropertyOptional({ description: 'Keywords of the content, matched by keywords any/all/none targeting (a list, or one comma-separated string as in /v1/vast)', type: [String], example: ['running', 'summer'] })
  @IsOptional()
  @Transform(splitList)
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  keywords?: string[];
}

export class DecisionRequestDto {
  @ApiProperty({ description: 'Where the ad plays (publisher-defined); unknown placements simply match nothing they target', example: 'between-songs' })
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  placement: string;

  @ApiPropertyOptional({ description: 'Ads wanted (an ad pod when > 1); never two of the same line item', minimum: 1, maximum: MAX_SLOTS, default: 1, example: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_SLOTS)
  slots?: number;

  @ApiProperty({ type: DecisionUserDto })
  @IsDefined()
  @ValidateNested()
  @Type(() => DecisionUserDto)
  user: DecisionUserDto;

  @ApiProperty({ type: DecisionDeviceDto })
  @IsDefined()
  @ValidateNested()
  @Type(() => DecisionDeviceDto)
  device: DecisionDeviceDto;

  @ApiProperty({ type: DecisionGeoDto })
  @IsDefined()
  @ValidateNested()
  @Type(() => DecisionGeoDto)
  geo: DecisionGeoDto;

  @ApiPropertyOptional({ type: DecisionContextDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => DecisionContextDto)
  context?: DecisionContextDto;

  @ApiPropertyOptional({ enum: DECISION_FORMATS, description: 'Only creatives of this format', example: 'audio' })
  @IsOptional()
  @IsIn(DECISION_FORMATS)
  format?: CreativeFormat;
}


/** GET /v1/vast: the decision request as flat query parameters, as players send them. */
export class VastQueryDto {
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  placement: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_SLOTS)
  slots?: number;

  @IsString()
  @MinLength(1)
  @MaxLength(128)
  userId: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(130)
  age?: number;

  @IsOptional()
  @IsString()
  @MaxLength(32)
  gender?: string;

  @IsIn(DECISION_PLATFORMS)
  platform: Platform;

  @IsOptional()
  @IsString()
  @MaxLength(512)
  userAgent?: string;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  ip?: string;

  @Matches(/^[A-Za-z]{2}$/, { message: 'country must be an ISO 3166-1 alpha-2 code such as US' })
  country: string;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  region?: string;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  genre?: string;

  @IsOptional()
  @Transform(splitList)
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  keywords?: string[];

  /** VAST carries linear ads only: audio or video. */
  @IsOptional()
  @IsIn(['audio', 'video'])
  format?: 'audio' | 'video';
}
