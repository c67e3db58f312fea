import type { DeliveryState } from '@app/platform';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { CREATIVE_FORMATS, CREATIVE_STATUSES, CreativeFormat, CreativeStatus, PACINGS, PRICING_MODELS, Pacing, PricingModel } from '../domain/enums';
import { DELIVERY_STATUSES, DeliveryStatus } from '../status/status-machine';
import { HasUniqueItems, IsAfterProperty, IsCreativeWeights, IsMicros, IsNotAboveProperty, IsNotBlank, IsOptionalNotNull, IsPlainText, IsZonedDateTime } from '../validation/validators';
import { AuditedDto, EXAMPLE_ID, ListQueryDto, PageDto } from './common.dto';
import { FrequencyCapDto, MAX_FREQUENCY_CAPS, TargetingDto } from './targeting.dto';

export const MAX_CREATIVES_PER_LINE_ITEM = 50;

const EXAMPLE_CREATIVE_ID = '0192f1c5-1a2b-7c3d-8e4f-5a6b7c8d9e0f';

const weightsProperty = {
  description: 'Rotation weight per creative id (ids from creativeIds), integer 1..1000; creatives not listed weigh 1',
  type: 'object',
  additionalProperties: { type: 'integer', minimum: 1, maximum: 1000 },
  example: { [EXAMPLE_CREATIVE_ID]: 3 },
} as const;

export class CreateLineItemDto {
  @ApiProperty({ example: EXAMPLE_ID })
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  campaignId: string;

  @ApiProperty({ maxLength: 200, example: 'US mobile, morning drive' })
  @IsString()
  @IsNotBlank()
  @MaxLength(200)
  @IsPlainText()
  name: string;

  @ApiPropertyOptional({ enum: CREATIVE_FORMATS, default: 'audio', description: 'Only creatives of this format can be assigned', example: 'audio' })
  @IsOptional()
  @IsIn(CREATIVE_FORMATS)
  format?: CreativeFormat;

  @ApiProperty({ enum: PRICING_MODELS, description: 'CPM per 1,000 billable impressions, CPC per valid click, CPCL per completed listen', example: 'CPM' })
  @IsIn(PRICING_MODELS)
  pricingModel: PricingModel;

  @ApiProperty({ description: 'Price per unit of the pricing model, in micros', example: 12_500_000 })
  @IsMicros()
  rateMicros: number;

  @ApiProperty({ description: 'Total budget in micros; not above the campaign budget', example: 5_000_000_000 })
  @IsMicros()
  budgetMicros: number;

  @ApiPropertyOptional({ type: Number, description: 'Daily budget in micros (advertiser timezone); not above budgetMicros', nullable: true, example: 250_000_000 })
  @IsOptional()
  @IsMicros()
  @IsNotAboveProperty('budgetMicros')
  dailyBudgetMicros?: number | null;

  @ApiPropertyOptional({ enum: PACINGS, default: 'EVEN', example: 'EVEN' })
  @IsOptional()
  @IsIn(PACINGS)
  pacing?: Pacing;

  @ApiPropertyOptional({ description: '1..16, lower serves first (sponsorship 4, standard 8, house 16)', minimum: 1, maximum: 16, default: 8, example: 8 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(16)
  priority?: number;

  @ApiPropertyOptional({ type: String, description: "Flight start inside the campaign's; default (null) follows the campaign", nullable: true, example: '2026-12-01T00:00:00Z' })
  @IsOptional()
  @IsZonedDateTime()
  startAt?: string | null;

  @ApiPropertyOptional({ type: String, description: "Flight end inside the campaign's; default (null) follows the campaign", nullable: true, example: '2026-12-15T00:00:00Z' })
  @IsOptional()
  @IsZonedDateTime()
  @IsAfterProperty('startAt')
  endAt?: string | null;

  @ApiPropertyOptional({ type: [FrequencyCapDto], maxItems: MAX_FREQUENCY_CAPS, default: [] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_FREQUENCY_CAPS)
  @ValidateNested({ each: true })
  @Type(() => FrequencyCapDto)
  frequencyCaps?: FrequencyCapDto[];

  @ApiPropertyOptional({ type: TargetingDto, default: {} })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => TargetingDto)
  targeting?: TargetingDto;

  @ApiPropertyOptional({ description: "Creatives of the line item's advertiser and format", type: [String], maxItems: MAX_CREATIVES_PER_LINE_ITEM, default: [], example: [EXAMPLE_CREATIVE_ID] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_CREATIVES_PER_LINE_ITEM)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  @HasUniqueItems()
  creativeIds?: string[];

  @ApiPropertyOptional(weightsProperty)
  @IsOptional()
  @IsCreativeWeights()
  creativeWeights?: Record<string, number>;
}

/** Every field optional; null clears the nullable ones. `creativeIds` replaces the whole assignment. */
export class UpdateLineItemDto {
  @ApiPropertyOptional({ maxLength: 200, example: 'US mobile, morning drive (v2)' })
  @IsOptionalNotNull()
  @IsString()
  @IsNotBlank()
  @MaxLength(200)
  @IsPlainText()
  name?: string;

  @ApiPropertyOptional({ enum: CREATIVE_FORMATS, description: 'Assigned creatives must match the new format', example: 'audio' })
  @IsOptionalNotNull()
  @IsIn(CREATIVE_FORMATS)
  format?: CreativeFormat;

  @ApiPropertyOptional({ enum: PRICING_MODELS, example: 'CPC' })
  @IsOptionalNotNull()
  @IsIn(PRICING_MODELS)
  pricingModel?: PricingModel;

  @ApiPropertyOptional({ example: 500_000 })
  @IsOptionalNotNull()
  @IsMicros()
  rateMicros?: number;

  @ApiPropertyOptional({ example: 6_000_000_000 })
  @IsOptionalNotNull()
  @IsMicros()
  budgetMicros?: number;

  @ApiPropertyOptional({ type: Number, nullable: true, description: 'null removes the daily budget', example: 300_000_000 })
  @IsOptional()
  @IsMicros()
  @IsNotAboveProperty('budgetMicros')
  dailyBudgetMicros?: number | null;

  @ApiPropertyOptional({ enum: PACINGS, example: 'ASAP' })
  @IsOptionalNotNull()
  @IsIn(PACINGS)
  pacing?: Pacing;

  @ApiPropertyOptional({ minimum: 1, maximum: 16, example: 4 })
  @IsOptionalNotNull()
  @IsInt()
  @Min(1)
  @Max(16)
  priority?: number;

  @ApiPropertyOptional({ type: String, nullable: true, description: "null follows the campaign's start", example: '2026-12-02T00:00:00Z' })
  @IsOptional()
  @IsZonedDateTime()
  startAt?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: "null follows the campaign's end", example: '2026-12-20T00:00:00Z' })
  @IsOptional()
  @IsZonedDateTime()
  @IsAfterProperty('startAt')
  endAt?: string | null;

  @ApiPropertyOptional({ type: [FrequencyCapDto], maxItems: MAX_FREQUENCY_CAPS })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(MAX_FREQUENCY_CAPS)
  @ValidateNested({ each: true })
  @Type(() => FrequencyCapDto)
  frequencyCaps?: FrequencyCapDto[];

  @ApiPropertyOptional({ type: TargetingDto, description: 'Replaces the whole targeting' })
  @IsOptionalNotNull()
  @IsObject()
  @ValidateNested()
  @Type(() => TargetingDto)
  targeting?: TargetingDto;

  @ApiPropertyOptional({ type: [String], maxItems: MAX_CREATIVES_PER_LINE_ITEM, description: 'Replaces the assignment', example: [EXAMPLE_CREATIVE_ID] })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(MAX_CREATIVES_PER_LINE_ITEM)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  @HasUniqueItems()
  creativeIds?: string[];

  @ApiPropertyOptional({ ...weightsProperty, description: `${weightsProperty.description}; only with creativeIds` })
  @IsOptional()
  @IsCreativeWeights()
  creativeWeights?: Record<string, number>;
}

export class LineItemListQueryDto extends ListQueryDto {
  @ApiPropertyOptional({ example: EXAMPLE_ID })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  campaignId?: string;

  @ApiPropertyOptional({ enum: DELIVERY_STATUSES, example: 'active' })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES)
  status?: DeliveryStatus;
}

export class AssignedCreativeDto {
  @ApiProperty({ example: EXAMPLE_CREATIVE_ID })
  creativeId: string;

  @ApiProperty({ example: 3 })
  weight: number;

  @ApiProperty({ enum: CREATIVE_STATUSES, description: 'Only approved creatives serve', example: 'approved' })
  status: CreativeStatus;
}

export class LineItemDto extends AuditedDto {
  @ApiProperty({
    enum: ['budget_spent', 'daily_budget_spent', 'flight_ended', 'not_started', 'not_active', 'serving'],
    example: 'serving',
    description: 'Why it serves or not: its (or its campaign\'s) budget cannot pay one more unit, its daily budget is spent today, its flight ended, it or its campaign is not active, its flight has not started, or serving',
  })
  deliveryState: DeliveryState;

  @ApiProperty({ example: EXAMPLE_ID })
  id: string;

  @ApiProperty({ example: EXAMPLE_ID })
  campaignId: string;

  @ApiProperty({ example: EXAMPLE_ID })
  advertiserId: string;

  @ApiProperty({ example: 'US mobile, morning drive' })
  name: string;

  @ApiProperty({ enum: CREATIVE_FORMATS, example: 'audio' })
  format: CreativeFormat;

  @ApiProperty({ enum: PRICING_MODELS, example: 'CPM' })
  pricingModel: PricingModel;

  @ApiProperty({ example: 12_500_000 })
  rateMicros: number;

  @ApiProperty({ example: 5_000_000_000 })
  budgetMicros: number;

  @ApiProperty({ type: Number, nullable: true, example: 250_000_000 })
  dailyBudgetMicros: number | null;

  @ApiProperty({ enum: PACINGS, example: 'EVEN' })
  pacing: Pacing;

  @ApiProperty({ example: 8 })
  priority: number;

  @ApiProperty({ description: "The start that applies: its own, or by default the campaign's", example: '2026-12-01T00:00:00.000Z' })
  startAt: string;

  @ApiProperty({ description: "The end that applies: its own, or by default the campaign's", example: '2026-12-15T00:00:00.000Z' })
  endAt: string;

  @ApiProperty({ type: String, nullable: true, description: "The line item's own start; null follows the campaign's (also when the campaign's changes)", example: null })
  ownStartAt: string | null;

  @ApiProperty({ type: String, nullable: true, description: "The line item's own end; null follows the campaign's", example: '2026-12-15T00:00:00.000Z' })
  ownEndAt: string | null;

  @ApiProperty({ type: [FrequencyCapDto] })
  frequencyCaps: FrequencyCapDto[];

  @ApiProperty({ type: TargetingDto })
  targeting: TargetingDto;

  @ApiProperty({ type: [String], example: [EXAMPLE_CREATIVE_ID] })
  creativeIds: string[];

  @ApiProperty({ type: [AssignedCreativeDto] })
  creatives: AssignedCreativeDto[];

  @ApiProperty({ enum: DELIVERY_STATUSES, example: 'draft' })
  status: DeliveryStatus;
}

export class LineItemPageDto extends PageDto {
  @ApiProperty({ type: [LineItemDto] })
  data: LineItemDto[];
}
