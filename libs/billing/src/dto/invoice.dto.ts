import { ListQueryDto } from '@app/campaigns';
import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

const ID = '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f';
const TIME = '2026-12-01T05:00:00.000Z';
export const INVOICE_STATUSES = ['draft', 'issued', 'paid', 'void'] as const;
const PERIOD = /^(2\d{3})-(0[1-9]|1[0-2])$/;

export class GenerateInvoicesDto {
  @ApiProperty({ description: "Calendar month, in each advertiser's timezone", example: '2026-11' })
  @IsString()
  @Matches(PERIOD, { message: 'period must be a month as YYYY-MM (2000-01 to 2999-12)' })
  period: string;

  @ApiPropertyOptional({ description: 'Only this advertiser (default: every advertiser with something to bill)', example: ID })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  advertiserId?: string;
}

export class VoidInvoiceDto {
  @ApiPropertyOptional({ description: 'Why the invoice is voided (kept on it)', example: 'wrong billing address' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}

export class InvoiceListQueryDto extends ListQueryDto {
  @ApiPropertyOptional({ example: ID }) @IsOptional() @IsString() @MaxLength(64) advertiserId?: string;
  @ApiPropertyOptional({ example: '2026-11' }) @IsOptional() @Matches(PERIOD, { message: 'period must be a month as YYYY-MM' }) period?: string;
  @ApiPropertyOptional({ enum: INVOICE_STATUSES, example: 'issued' }) @IsOptional() @IsIn(INVOICE_STATUSES) status?: (typeof INVOICE_STATUSES)[number];
  @ApiPropertyOptional({ enum: ['json', 'csv'], example: 'json' }) @IsOptional() @IsIn(['json', 'csv']) format?: 'json' | 'csv';
}

export class InvoiceFormatQueryDto {
  @ApiPropertyOptional({ enum: ['json', 'csv'], example: 'csv', description: 'csv (or Accept: text/csv): the header, then the lines' })
  @IsOptional()
  @IsIn(['json', 'csv'])
  format?: 'json' | 'csv';
}

export class InvoiceLineDto {
  @ApiProperty({ enum: ['usage', 'adjustment'], example: 'usage', description: "usage: the invoice's own month; adjustment: late usage of an earlier, issued month" }) kind: 'usage' | 'adjustment';
  @ApiProperty({ example: ID }) campaignId: string;
  @ApiProperty({ example: ID }) lineItemId: string;
  @ApiProperty({ enum: ['CPM', 'CPC', 'CPCL'], example: 'CPM' }) pricingModel: 'CPM' | 'CPC' | 'CPCL';
  @ApiProperty({ example: 120000, description: 'CPM: impressions; CPC: clicks; CPCL: completed listens (valid, within budget)' }) billableUnits: number;
  @ApiProperty({ example: 2500000, description: "The line item's rate, micros (CPM: per 1,000)" }) rateMicros: number;
  @ApiProperty({ example: 300000000, description: 'Exact spend rounded down once, micros' }) amountMicros: number;
  @ApiProperty({ example: 0, description: 'Delivered past a budget, micros: shown, never billed' }) writtenOffMicros: number;
  @ApiProperty({ example: '2026-11', description: 'The month the usage happened in' }) servicePeriod: string;
  @ApiPropertyOptional({ type: String, example: ID, nullable: true, description: 'Adjustments: the issued invoice of that month' }) originalInvoiceId?: string | null;
  @ApiPropertyOptional({ type: String, example: 'usage of 2026-11 measured after invoice … was issued', nullable: true }) reason?: string | null;
}

export class InvoiceDto {
  @ApiProperty({ example: ID }) id: string;
  @ApiProperty({ type: String, example: 'INV-2026-000042', nullable: true, description: 'Assigned at issue: gapless per year, never reused' }) number: string | null;
  @ApiProperty({ example: ID }) advertiserId: string;
  @ApiProperty({ example: '2026-11' }) period: string;
  @ApiProperty({ example: 'USD' }) currency: string;
  @ApiProperty({ example: 'America/New_York' }) timezone: string;
  @ApiProperty({ example: '2026-11-01T04:00:00.000Z', description: 'First instant of the month in the timezone' }) periodStart: string;
  @ApiProperty({ example: TIME, description: 'First instant of the next month (exclusive)' }) periodEnd: string;
  @ApiProperty({ enum: INVOICE_STATUSES, example: 'issued' }) status: string;
  @ApiProperty({ example: TIME, description: 'When the usage was measured; later usage becomes adjustments on a later invoice' }) cutoffAt: string;
  @ApiProperty({ example: 18231, description: 'The last raw event id measurement had rolled up at the cutoff' }) cutoffEventId: number;
  @ApiProperty({ type: String, example: TIME, nullable: true }) issuedAt: string | null;
  @ApiProperty({ type: String, example: TIME, nullable: true }) dueAt: string | null;
  @ApiProperty({ type: String, example: null, nullable: true }) paidAt: string | null;
  @ApiProperty({ type: String, example: null, nullable: true }) voidedAt: string | null;
  @ApiProperty({ type: String, example: null, nullable: true }) voidReason: string | null;
  @ApiProperty({ type: String, example: null, nullable: true, description: 'Void invoices: the new draft that bills the month again' }) replacementInvoiceId: string | null;
  @ApiProperty({ example: 300000000, description: 'Sum of usage lines, micros' }) subtotalMicros: number;
  @ApiProperty({ example: 0, description: 'Sum of adjustment lines, micros' }) adjustmentsMicros: number;
  @ApiProperty({ example: 300000000, description: 'subtotalMicros + adjustmentsMicros: the sum of the lines' }) totalMicros: number;
  @ApiProperty({ example: 0, description: 'Sum of the lines’ written-off amounts (not billed)' }) writtenOffMicros: number;
  @ApiProperty({ type: [InvoiceLineDto] }) lines: InvoiceLineDto[];
}

export class InvoicePageDto {
  @ApiProperty({ type: [InvoiceDto] }) data: InvoiceDto[];
  @ApiProperty({ type: String, nullable: true, example: ID }) next: string | null;
}

export class GeneratedInvoicesDto {
  @ApiProperty({ type: [InvoiceDto], description: 'The drafts made or refreshed (months already issued get none: their late usage goes on a later draft)' })
  data: InvoiceDto[];
}

export class ReconciliationFigureDto {
  @ApiProperty({ example: 1200 }) units: number;
  @ApiProperty({ example: 3000000, description: 'Micros, rounded down' }) micros: number;
  @ApiProperty({ example: '3000000000', description: 'Exact, milli-micros (a string: may pass 2^53)' }) milliMicros: string;
}

export class ReconciliationLineDto {
  @ApiProperty({ example: ID }) lineItemId: string;
  @ApiProperty({ enum: ['ok', 'pending', 'mismatch'], example: 'ok', description: 'pending: measured usage not yet invoiced (running month, late usage)' }) state: string;
  @ApiProperty({ type: ReconciliationFigureDto, description: 'Billed for the month by invoices that are not void' }) invoiced: ReconciliationFigureDto;
  @ApiProperty({ type: ReconciliationFigureDto, description: "The rollups' billed spend" }) rollup: ReconciliationFigureDto;
  @ApiProperty({
    allOf: [{ $ref: getSchemaPath(ReconciliationFigureDto) }],
    nullable: true,
    description: 'Recomputed from raw events up to the same watermark; null once part of the month is past raw-event retention (invoices and rollups are still compared)',
  })
  raw: ReconciliationFigureDto | null;
}

export class ReconciliationDto {
  @ApiProperty({ example: ID }) invoiceId: string;
  @ApiProperty({ example: '2026-11' }) period: string;
  @ApiProperty({ enum: ['ok', 'pending', 'mismatch', 'unchecked'], example: 'ok' }) state: string;
  @ApiProperty({ type: String, example: TIME, nullable: true }) checkedAt: string | null;
  @ApiProperty({ type: Number, example: 18231, nullable: true }) watermark: number | null;
  @ApiProperty({ type: [ReconciliationLineDto] }) lines: ReconciliationLineDto[];
}
