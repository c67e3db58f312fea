import { ADMIN_ONLY, ApiController, ListEndpoint, ErrorBody, Idempotent, PlatformConfig, pageOffset } from '@app/platform';
import { BadRequestException, Body, HttpCode, Inject, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBadRequestResponse, ApiConflictResponse, ApiOperation, ApiServiceUnavailableResponse } from '@nestjs/swagger';
import { ExportListQueryDto, ExportPageDto, ExportRequestedDto, RequestExportDto } from '../dto/export.dto';
import { isOpen } from '../export/export-days';
import { ExportRequests } from '../export/export-requests.service';
import { ExportStateRepository } from '../repositories/export-state.repository';
import { groupByDay, toDayDto } from './export-view';

/** The warehouse export per UTC day: run one now, list days and their state (admin only). */
@ApiController('v1/ops/exports', 'ops', ADMIN_ONLY)
export class ExportsController {
  constructor(
    private readonly requests: ExportRequests,
    private readonly state: ExportStateRepository,
    @Inject(PlatformConfig) private readonly config: PlatformConfig,
  ) {}

  @Post()
  @HttpCode(202)
  @Idempotent()
  @ApiOperation({
    summary:
      'Export a UTC day now (admin): raw events and hourly rollups to Parquet under EXPORT_DIR, then verified. Queued for a worker: answers 202 at once; GET /v1/ops/exports shows the run. A day still receiving events (today, or within TRACKING_TOKEN_TTL of its end) is exported as partial',
  })
  @ApiAcceptedResponse({ type: ExportRequestedDto })
  @ApiBadRequestResponse({ type: ErrorBody, description: 'date is not a UTC day YYYY-MM-DD, or is in the future' })
  @ApiConflictResponse({ type: ErrorBody, description: 'An export job of that day (a retried dead letter included) is already queued, running or waiting for a retry, or `npm run export` holds the day; of concurrent requests for a day only one is accepted' })
  @ApiServiceUnavailableResponse({ type: ErrorBody })
  async request(@Body() dto: RequestExportDto): Promise<ExportRequestedDto> {
    const { jobId } = await this.requests.requestExport(dto.date, 'request');
    const day = toDayDto(dto.date, await this.state.list({ from: dto.date, to: dto.date }), true);
    return { ...day, jobId, willBePartial: isOpen(dto.date, Date.now(), this.config.TRACKING_TOKEN_TTL) };
  }

  @ListEndpoint("Exported days, newest first, with each table's state, rows, sums, files and verification (admin); filter with from and to", ExportPageDto)
  async list(@Query() q: ExportListQueryDto): Promise<ExportPageDto> {
    if (q.from && q.to && q.from > q.to) throw new BadRequestException({ message: `from: must not be after to (${q.from} > ${q.to})`, details: [{ field: 'from', problems: ['must not be after to'] }] });
    const limit = q.limit ?? 31;
    const days = groupByDay(await this.state.list({ from: q.from, to: q.to, before: q.cursor, offsetDays: pageOffset(q, limit), limitDays: limit + 1 }));
    const page = days.slice(0, limit);
    const data = [];
    for (const d of page) data.push(toDayDto(d.date, d.rows, await this.requests.exportPending(d.date)));
    return { data, items: data, next: days.length > limit ? page[page.length - 1].date : null };
  }
}
