import { ApiController, Auth, CurrentPrincipal, DEFAULT_PAGE_SIZE, ErrorBody, Idempotent, Principal, scopeOf } from '@app/platform';
import { Body, Get, Headers, HttpCode, NotFoundException, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import {
  GenerateInvoicesDto,
  GeneratedInvoicesDto,
  InvoiceDto,
  InvoiceFormatQueryDto,
  InvoiceListQueryDto,
  InvoicePageDto,
  ReconciliationDto,
  VoidInvoiceDto,
} from '../dto/invoice.dto';
import { InvoicesService } from '../services/invoices.service';
import { ReconciliationService } from '../services/reconciliation.service';
import { invoicesToCsv, toInvoiceDto, toReconciliationDto } from './invoice-view';

const wantsCsv = (format: string | undefined, accept: string | undefined) => format === 'csv' || (format === undefined && /\btext\/csv\b/i.test(accept ?? ''));

@ApiController('v1/invoices', 'invoices', 'An advertiser key on an admin-only endpoint (advertisers read their own invoices)')
export class InvoicesController {
  constructor(
    private readonly invoices: InvoicesService,
    private readonly reconciliation: ReconciliationService,
  ) {}

  @Post('generate')
  @HttpCode(200)
  @Idempotent()
  @ApiOperation({ summary: "Make or refresh the draft invoices of a month (admin); idempotent. Months already issued get none: their late usage goes on the next draft" })
  @ApiOkResponse({ type: GeneratedInvoicesDto })
  @ApiBadRequestResponse({ type: ErrorBody, description: 'period is not YYYY-MM' })
  @ApiNotFoundResponse({ type: ErrorBody, description: 'Unknown advertiser' })
  async generate(@Body() dto: GenerateInvoicesDto): Promise<GeneratedInvoicesDto> {
    return { data: (await this.invoices.generate(dto.period, dto.advertiserId)).map(toInvoiceDto) };
  }

  @Get()
  @Auth('admin', 'advertiser')
  @ApiOperation({ summary: "Invoices, newest first, filtered by advertiserId, period, status (an advertiser sees its own). CSV with format=csv or Accept: text/csv" })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: InvoicePageDto })
  @ApiBadRequestResponse({ type: ErrorBody })
  async list(
    @Query() query: InvoiceListQueryDto,
    @CurrentPrincipal() principal: Principal,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<InvoicePageDto | string> {
    const page = await this.invoices.list({ advertiserId: query.advertiserId, period: query.period, status: query.status, cursor: query.cursor, page: query.page, limit: query.limit ?? DEFAULT_PAGE_SIZE }, principal);
    const dto = { data: page.data.map(toInvoiceDto), next: page.next };
    if (!wantsCsv(query.format, accept)) return dto;
    reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="invoices.csv"');
    return invoicesToCsv(dto.data);
  }

  @Get(':id')
  @Auth('admin', 'advertiser')
  @ApiOperation({ summary: "One invoice with its lines; another advertiser's answers 404. CSV (header, then lines) with format=csv or Accept: text/csv" })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: InvoiceDto })
  @ApiNotFoundResponse({ type: ErrorBody })
  async get(
    @Param('id') id: string,
    @Query() query: InvoiceFormatQueryDto,
    @CurrentPrincipal() principal: Principal,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<InvoiceDto | string> {
    const dto = toInvoiceDto(await this.invoices.get(id, scopeOf(principal)));
    if (!wantsCsv(query.format, accept)) return dto;
    reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${(dto.number ?? `draft-${dto.id}`).replace(/[^\w.-]/g, '_')}.csv"`);
    return invoicesToCsv([dto]);
  }

  @Get(':id/reconciliation')
  @ApiOperation({ summary: "The latest reconciliation of the invoice's month (admin): per line item, invoiced = rollup spend = raw events" })
  @ApiOkResponse({ type: ReconciliationDto })
  @ApiNotFoundResponse({ type: ErrorBody })
  async reconciliationOf(@Param('id') id: string): Promise<ReconciliationDto> {
    const invoice = await this.invoices.get(id, undefined).catch(() => {
      throw new NotFoundException(`invoice ${id} not found`);
    });
    return toReconciliationDto(invoice.id, invoice.period, await this.reconciliation.ofMonth(invoice.advertiserId, invoice.period));
  }

  @Post(':id/issue')
  @HttpCode(200)
  @Idempotent()
  @ApiOperation({ summary: 'draft -> issued (admin): lines refreshed to what is measured now (cutoffAt), next gapless number of the year' })
  @ApiOkResponse({ type: InvoiceDto })
  @ApiNotFoundResponse({ type: ErrorBody })
  @ApiConflictResponse({ type: ErrorBody, description: 'Not a draft, nothing to bill, or the month is already issued' })
  async issue(@Param('id') id: string): Promise<InvoiceDto> {
    return toInvoiceDto(await this.invoices.issue(id));
  }

  @Post(':id/pay')
  @HttpCode(200)
  @Idempotent()
  @ApiOperation({ summary: 'issued -> paid (admin)' })
  @ApiOkResponse({ type: InvoiceDto })
  @ApiNotFoundResponse({ type: ErrorBody })
  @ApiConflictResponse({ type: ErrorBody, description: 'Not issued (a draft, void or already paid)' })
  async pay(@Param('id') id: string): Promise<InvoiceDto> {
    return toInvoiceDto(await this.invoices.pay(id));
  }

  @Post(':id/void')
  @HttpCode(200)
  @Idempotent()
  @ApiOperation({ summary: "issued -> void (admin): the month's usage goes back on a new draft (replacementInvoiceId), numbered anew at issue" })
  @ApiOkResponse({ type: InvoiceDto })
  @ApiNotFoundResponse({ type: ErrorBody })
  @ApiConflictResponse({ type: ErrorBody, description: 'Not issued' })
  async void(@Param('id') id: string, @Body() dto: VoidInvoiceDto): Promise<InvoiceDto> {
    return toInvoiceDto(await this.invoices.void(id, dto?.reason ?? null));
  }
}
