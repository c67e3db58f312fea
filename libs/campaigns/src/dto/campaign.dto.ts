import type { DeliveryState } from '@app/platform';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { DELIVERY_STATUSES, DeliveryStatus } from '../status/status-machine';
import { IsAfterProperty, IsMicros, IsNotBlank, IsOptionalNotNull, IsPlainText, IsZonedDateTime } from '../validation/validators';
import { AuditedDto, EXAMPLE_ID, ListQueryDto, PageDto } from './common.dto';

export class CreateCampaignDto {
  @ApiProperty({ example: EXAMPLE_ID })
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  advertiserId: string;

  @ApiProperty({ maxLength: 200, example: 'Summer launch' })
  @IsString()
  @IsNotBlank()
  @MaxLength(200)
  @IsPlainText()
  name: string;

  @ApiProperty({ description: 'Flight start, ISO-8601 with zone', example: '2026-12-01T00:00:00Z' })
  @IsZonedDateTime()
  startAt: string;

  @ApiProperty({ description: 'Flight end, after startAt', example: '2026-12-31T23:59:59Z' })
  @IsZonedDateTime()
  @IsAfterProperty('startAt')
  endAt: string;

  @ApiPropertyOptional({ type: Number, description: 'Total budget in micros of the advertiser currency; each line item budget must fit in it', nullable: true, example: 50_000_000_000 })
  @IsOptional()
  @IsMicros()
  budgetMicros?: number | null;
}

export class UpdateCampaignDto {
  @ApiPropertyOptional({ maxLength: 200, example: 'Summer launch (extended)' })
  @IsOptionalNotNull()
  @IsString()
  @IsNotBlank()
  @MaxLength(200)
  @IsPlainText()
  name?: string;

  @ApiPropertyOptional({ example: '2026-12-01T00:00:00Z' })
  @IsOptionalNotNull()
  @IsZonedDateTime()
  startAt?: string;

  @ApiPropertyOptional({ example: '2027-01-15T00:00:00Z' })
  @IsOptionalNotNull()
  @IsZonedDateTime()
  @IsAfterProperty('startAt')
  endAt?: string;

  @ApiPropertyOptional({ type: Number, description: 'null removes the campaign budget', nullable: true, example: 60_000_000_000 })
  @IsOptional()
  @IsMicros()
  budgetMicros?: number | null;
}

export class CampaignListQueryDto extends ListQueryDto {
  @ApiPropertyOptional({ example: EXAMPLE_ID })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  advertiserId?: string;

  @ApiPropertyOptional({ enum: DELIVERY_STATUSES, example: 'active' })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES)
  status?: DeliveryStatus;
}

export class CampaignDto extends AuditedDto {
  @ApiPropertyOptional({
    enum: ['budget_spent', 'daily_budget_spent', 'flight_ended', 'not_started', 'not_active', 'serving'],
    example: 'serving',
    description: 'Why it serves or not: its (or its campaign\'s) budget cannot pay one more unit, its daily budget is spent today, its flight ended, it or its campaign is not active, its flight has not started, or serving',
  })
  deliveryState?: DeliveryState;

  @ApiProperty({ example: EXAMPLE_ID })
  id: string;

  @ApiProperty({ example: EXAMPLE_ID })
  advertiserId: string;

  @ApiProperty({ example: 'Summer launch' })
  name: string;

  @ApiProperty({ example: '2026-12-01T00:00:00.000Z' })
  startAt: string;

  @ApiProperty({ example: '2026-12-31T23:59:59.000Z' })
  endAt: string;

  @ApiProperty({ type: Number, nullable: true, example: 50_000_000_000 })
  budgetMicros: number | null;

  @ApiProperty({ enum: DELIVERY_STATUSES, example: 'draft' })
  status: DeliveryStatus;
}

export class CampaignPageDto extends PageDto {
  @ApiProperty({ type: [CampaignDto] })
  data: CampaignDto[];
}
