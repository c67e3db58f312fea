import { ApiController, Auth, CurrentPrincipal, ErrorBody, Principal, scopeOf } from '@app/platform';
import { Get, Headers, Query, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { RejectedQueryDto, RejectedSummaryDto, ReportDto, ReportQueryDto } from '../dto/report.dto';
import { reportToCsv } from '../reports/report-csv';
import { ReportService } from '../reports/report.service';

@ApiController('v1/reports', 'reports')
export class ReportsController {
  constructor(private readonly reports: ReportService) {}

  @Auth('admin', 'advertiser')
  @Get()
  @ApiOperation({
    summary: 'Delivery report of an advertiser, campaign or line item: counts, rates, reach (exact, or from sketches: reachMethod), spend, invalid traffic',
    description: 'Exactly one of advertiserId, campaignId, lineItemId. from/to are whole UTC hours (to exclusive). JSON, or CSV with format=csv or Accept: text/csv.',
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: ReportDto })
  @ApiBadRequestResponse({ type: ErrorBody, description: 'Invalid parameters (the field is named)' })
  @ApiNotFoundResponse({ type: ErrorBody, description: 'Unknown id, or another advertiser\'s' })
  async report(
    @Query() query: ReportQueryDto,
    @CurrentPrincipal() principal: Principal,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ReportDto | string> {
    const request = await this.reports.parse(query, scopeOf(principal));
    const report = await this.reports.report(request);
    const csv = query.format === 'csv' || (query.format === undefined && /\btext\/csv\b/i.test(accept ?? ''));
    if (!csv) return report;
    const name = `report-${request.scope.kind}-${request.scope.id}-${report.from.slice(0, 13)}-${report.to.slice(0, 13)}.csv`.replace(/[^\w.-]/g, '_');
    reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}"`);
    return reportToCsv(report.rows, report.granularity, report.breakdown);
  }

  @Get('rejected')
  @ApiOperation({ summary: 'Beacons rejected for an untrustworthy token (malformed, bad signature): hourly counts by reason and event, and a bounded sample (admin)' })
  @ApiOkResponse({ type: RejectedSummaryDto })
  @ApiBadRequestResponse({ type: ErrorBody })
  @ApiForbiddenResponse({ type: ErrorBody, description: 'An advertiser key: admin only' })
  rejected(@Query() query: RejectedQueryDto): Promise<RejectedSummaryDto> {
    return this.reports.rejected(query.from, query.to);
  }
}
