import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { IsCurrencyCode, IsIanaTimezone, IsNotBlank, IsOptionalNotNull, IsPlainText } from '../validation/validators';
import { AuditedDto, EXAMPLE_ID, PageDto } from './common.dto';

export class CreateAdvertiserDto {
  @ApiProperty({ maxLength: 200, example: 'Acme Records' })
  @IsString()
  @IsNotBlank()
  @MaxLength(200)
  @IsPlainText()
  name: string;

  @ApiPropertyOptional({ description: 'ISO 4217; every amount of this advertiser is in micros of it', default: 'USD', example: 'EUR' })
  @IsOptional()
  @IsCurrencyCode()
  currency?: string;

  @ApiPropertyOptional({ description: 'IANA timezone for dayparts and daily budgets', default: 'UTC', example: 'Europe/Paris' })
  @IsOptional()
  @IsIanaTimezone()
  timezone?: string;
}

export class UpdateAdvertiserDto {
  @ApiPropertyOptional({ maxLength: 200, example: 'Acme Records Ltd' })
  @IsOptionalNotNull()
  @IsString()
  @IsNotBlank()
  @MaxLength(200)
  @IsPlainText()
  name?: string;

  @ApiPropertyOptional({ description: 'ISO 4217; can only change while the advertiser has no campaign', example: 'GBP' })
  @IsOptionalNotNull()
  @IsCurrencyCode()
  currency?: string;

  @ApiPropertyOptional({ description: 'IANA timezone', example: 'America/New_York' })
  @IsOptionalNotNull()
  @IsIanaTimezone()
  timezone?: string;
}

export class AdvertiserDto extends AuditedDto {
  @ApiProperty({ example: EXAMPLE_ID })
  id: string;

  @ApiProperty({ example: 'Acme Records' })
  name: string;

  @ApiProperty({ example: 'EUR' })
  currency: string;

  @ApiProperty({ example: 'Europe/Paris' })
  timezone: string;
}

export class AdvertiserPageDto extends PageDto {
  @ApiProperty({ type: [AdvertiserDto] })
  data: AdvertiserDto[];
}
