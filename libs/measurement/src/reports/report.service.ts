import { UUID_PATTERN, invalidField, localDayStart, offsetMs, offsetSpans } from '@app/platform';
import { Injectable, NotFoundException } from '@nestjs/common';
import { AggregationStatusService } from '../aggregation/aggregation-status.service';
import { Breakdown, Granularity, REPORT_SCOPE_FIELDS, ReachMethod, RejectedSummaryDto, ReportDto, ReportQueryDto, ReportRowDto } from '../dto/report.dto';
import { RawEventRepository } from '../repositories/raw-event.repository';
import { ReportPeriod } from '../repositories/report-period.sql';
import { ReportScopeRepository, ScopeOwner } from '../repositories/report-scope.repository';
import { RollupCells, RollupGrain, RollupRepository, RollupSums } from '../repositories/rollup.repository';
import { ReachService } from './reach.service';

const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;
/** Longest range of one report, and of an hourly one (rows stay bounded). */
const MAX_RANGE_DAYS = 400;
const DEFAULT_RANGE_DAYS = 30;
const MAX_HOURLY_RANGE_DAYS = 93;

export type ReportScope = { kind: 'advertiser' | 'campaign' | 'lineItem'; id: string };

export interface ReportRequest {
  scope: ReportScope;
  /** The campaign of the scope (the campaign itself, or the line item's); absent for an advertiser. */
  campaignId?: string;
  /** Whole quarter-hours of UTC (whole hours unless the zone's offset is not); `to` exclusive. */
  from: Date;
  to: Date;
  granularity: Granularity;
  breakdown: Breakdown[];
  /** IANA zone of days (granularity=day) and of date-only bounds; default the advertiser's. */
  timezone?: string;
}

const QUARTER_MS = 15 * 60_000;

const DIMENSION_COLUMN: Record<Breakdown, 'country' | 'platform' | 'creative_id'> = { country: 'country', platform: 'platform', creative: 'creative_id' };

const ratio = (num: number, den: number) => (den > 0 ? Math.round((num / den) * 1e6) / 1e6 : 0);

/**
 * Delivery reports from the hourly rollups (counts, spend, invalid traffic) and reach (distinct
 * listeners, exact or from sketches: ReachService), for an advertiser, a campaign or a line item, by
 * hour, day or in total, split by country, platform and creative. Grouped queries, merged by row key.
 */
@Injectable()
export class ReportService {
  constructor(
    private readonly rollups: RollupRepository,
    private readonly rawEvents: RawEventRepository,
    private readonly scopes: ReportScopeRepository,
    private readonly status: AggregationStatusService,
    private readonly reach: ReachService,
  ) {}

  /**
   * Resolves a query the DTO has validated: the scope (404 when unknown or not the caller's), its
   * timezone, and the range in whole hours or quarter-hours (400 naming the field when the range
   * breaks a limit once resolved).
   */
  async parse(query: ReportQueryDto, callerAdvertiserId: string | undefined): Promise<ReportRequest & { currency: string | null }> {
    const key = REPORT_SCOPE_FIELDS.find((k) => query[k] !== undefined)!;
    const kind = key === 'advertiserId' ? 'advertiser' : key === 'campaignId' ? 'campaign' : 'lineItem';
    const id = query[key]!;
    const owner = await this.ownerOf(kind, id);
    if (!owner || (callerAdvertiserId !== undefined && owner.advertiserId !== callerAdvertiserId)) {
      throw new NotFoundException(`${kind === 'lineItem' ? 'line item' : kind} ${id} not found`);
    }
    const timezone = query.timezone ?? owner.timezone;
    // Rollups are hourly (and quarter-hourly per line item): the range widens to whole hours, or to
    // whole quarter-hours where the zone's day starts off the hour (Asia/Kathmandu); the answer says
    // which. Date-only bounds are midnights of the zone. Default: the last 30 days up to the end of the current hour.
    const to = query.to !== undefined ? toBound(query.to, 'to', Math.ceil, timezone) : new Date(Math.ceil((Date.now() + 1) / HOUR_MS) * HOUR_MS);
    const from = query.from !== undefined ? toBound(query.from, 'from', Math.floor, timezone) : new Date(to.getTime() - DEFAULT_RANGE_DAYS * 24 * HOUR_MS);
    if (to <= from) throw invalidField('to', 'must be after from');
    const granularity = query.granularity ?? 'total';
    const days = (to.getTime() - from.getTime()) / (24 * HOUR_MS);
    if (days > MAX_RANGE_DAYS) throw invalidField('to', `the range may span at most ${MAX_RANGE_DAYS} days`);
    if (granularity === 'hour' && days > MAX_HOURLY_RANGE_DAYS) throw invalidField('granularity', `hourly reports may span at most ${MAX_HOURLY_RANGE_DAYS} days`);
    const breakdown = query.breakdown ? [...new Set(query.breakdown.split(','))].map((b) => b as Breakdown) : [];
    if (needsQuarters(from, to, granularity, timezone)) {
      // Quarter-hour rollups are per line item: no country, platform or creative split, no local hours.
      if (breakdown.length > 0) throw invalidField('breakdown', `is not available for ranges or days that start off the hour in ${timezone}; use whole hours or timezone=UTC`);
      if (granularity === 'hour') throw invalidField('granularity', `hour is not available for ranges that start off the hour in ${timezone}; use day or total`);
    }
    return { scope: { kind, id }, campaignId: owner.campaignId, from, to, granularity, breakdown, currency: owner.currency, timezone };
  }

  async report(request: ReportRequest & { currency?: string | null }): Promise<ReportDto> {
    const { scope, from, to, granularity, breakdown } = request;
    const timezone = request.timezone ?? 'UTC';
    const dims = breakdown.map((b) => DIMENSION_COLUMN[b]);
    const spans = offsetSpans(timezone, from.getTime(), to.getTime());
    const utcDays = spans.every((sp) => sp.offsetMs === 0);
    const quarters = needsQuarters(from, to, granularity, timezone);
    // Whole UTC days by day or in total read the daily rollups (same counters, ~24x fewer rows).
    const daily = !quarters && utcDays && granularity !== 'hour' && from.getTime() % DAY_MS === 0 && to.getTime() % DAY_MS === 0;
    const grain: RollupGrain = quarters ? 'quarter' : daily ? 'day' : 'hour';
    const localDays: ReportPeriod = { localDays: spans };
    const countPeriod: ReportPeriod = granularity === 'total' ? null : granularity === 'hour' || daily ? 'time' : localDays;
    const reachPeriod: ReportPeriod = granularity === 'total' ? null : granularity === 'day' ? localDays : 'time';
    // Reach is counted per hour: over a range that starts off the hour, the hours that overlap it.
    const reachFrom = new Date(Math.floor(from.getTime() / HOUR_MS) * HOUR_MS);
    const reachTo = new Date(Math.ceil(to.getTime() / HOUR_MS) * HOUR_MS);

    const rollupScope = scope.kind === 'advertiser' ? { advertiserId: scope.id } : scope.kind === 'campaign' ? { campaignId: scope.id } : { campaignId: request.campaignId, lineItemId: scope.id };
    const countsQuery = this.rollups.sums(grain, rollupScope, countPeriod, dims, from, to);
    const campaignsQuery = scope.kind === 'advertiser' ? this.rollups.campaignsOf(grain, scope.id, from, to) : Promise.resolve([request.campaignId!]);
    const impressions = countsQuery.then((rows) => rows.reduce((sum, r) => sum + r.sums.impressions, 0));
    // Handled where it is awaited (ReachService); this only keeps a failed count from being reported as unhandled meanwhile.
    impressions.catch(() => undefined);
    const reachQuery = campaignsQuery.then((campaignIds) =>
      this.reach.reach(
        { kind: scope.kind, campaignIds, lineItemId: scope.kind === 'lineItem' ? scope.id : undefined, from: reachFrom, to: reachTo, granularity, dims, hourPeriod: reachPeriod, utcDays },
        impressions,
      ),
    );
    const [counts, reach, status] = await Promise.all([countsQuery, reachQuery, this.status.status()]);
    const reachOf = new Map(reach.rows.map((r) => [rowKey(r.cells, granularity, dims), r.reach]));

    const rows = counts.map((r) => toRow(r.cells, r.sums, granularity, dims, reachOf.get(rowKey(r.cells, granularity, dims)) ?? 0, reach.method)).sort(compareRows);
    if (granularity === 'total' && breakdown.length === 0 && rows.length === 0) rows.push(toRow({}, null, granularity, dims, 0, reach.method));

    return {
      scope: { [`${scope.kind}Id`]: scope.id },
      from: from.toISOString(),
      to: to.toISOString(),
      granularity,
      breakdown,
      timezone,
      currency: request.currency ?? null,
      reachMethod: reach.method,
      dataThrough: status.oldestPendingReceivedAt ? new Date(status.oldestPendingReceivedAt.getTime() - 1).toISOString() : new Date().toISOString(),
      rows,
    };
  }

  /** Beacons whose token could not be trusted, by reason and event, with a few samples (admin). Counts are hourly: the range is widened to whole hours. */
  async rejected(fromIso: string, toIso: string): Promise<RejectedSummaryDto> {
    if (new Date(toIso) <= new Date(fromIso)) throw invalidField('to', 'must be after from');
    const from = toHour(fromIso, 'from', Math.floor);
    const to = toHour(toIso, 'to', Math.ceil);
    const { counts, samples } = await this.rawEvents.rejected(from, to);
    return { from: from.toISOString(), to: to.toISOString(), rows: counts, samples: samples.map((s) => ({ ...s, receivedAt: s.receivedAt.toISOString() })) };
  }

  private async ownerOf(kind: ReportScope['kind'], id: string): Promise<ScopeOwner | null> {
    return UUID_PATTERN.test(id) ? this.scopes.owner(kind, id) : null;
  }
}

/**
 * A bound: a date alone is that midnight in the zone; a date-time is taken as given. Widened to the
 * hour, or to the quarter-hour when the zone puts it off the hour (every offset is whole quarters).
 */
function toBound(value: string, field: string, round: (units: number) => number, timezone: string): Date {
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const ms = day ? localDayStart(timezone, Number(day[1]), Number(day[2]), Number(day[3])) : new Date(value).getTime();
  if (Number.isNaN(ms)) throw invalidField(field, 'must be an ISO-8601 date-time');
  const quarter = round(ms / QUARTER_MS) * QUARTER_MS;
  // Off the UTC hour only where the zone's own hour is: a Kathmandu midnight stays at :15, a UTC 10:20 widens to the hour.
  return new Date((quarter + offsetMs(timezone, quarter)) % HOUR_MS === 0 ? quarter : round(ms / HOUR_MS) * HOUR_MS);
}

/** True when the range, or a local day inside it, starts off the UTC hour: only the quarter-hour rollups can cut it. */
function needsQuarters(from: Date, to: Date, granularity: Granularity, timezone: string): boolean {
  if (from.getTime() % HOUR_MS !== 0 || to.getTime() % HOUR_MS !== 0) return true;
  return granularity === 'day' && offsetSpans(timezone, from.getTime(), to.getTime()).some((sp) => sp.offsetMs % HOUR_MS !== 0);
}

/** A UTC instant rounded to whole UTC hours (the rejected-beacon counts are hourly). */
function toHour(value: string, field: string, round: (hours: number) => number): Date {
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(date.getTime())) throw invalidField(field, 'must be an ISO-8601 date-time');
  return new Date(round(date.getTime() / HOUR_MS) * HOUR_MS);
}

function periodOf(value: string | Date | null | undefined, granularity: Granularity): string | undefined {
  if (granularity === 'total' || value === null || value === undefined) return undefined;
  const date = value instanceof Date ? value : new Date(`${value}${/^\d{4}-\d{2}-\d{2}$/.test(value) ? 'T00:00:00Z' : ''}`);
  return granularity === 'day' ? date.toISOString().slice(0, 10) : date.toISOString();
}

function rowKey(r: RollupCells, granularity: Granularity, dims: string[]): string {
  return [periodOf(r.period, granularity) ?? '', ...dims.map((d) => String(r[d]))].join('|');
}

function toRow(r: RollupCells, sums: RollupSums | null, granularity: Granularity, dims: string[], reach: number, reachMethod: ReachMethod): ReportRowDto {
  const n = (k: Exclude<keyof RollupSums, 'spend_mmicros' | 'written_off_mmicros'>) => sums?.[k] ?? 0;
  const impressions = n('impressions');
  const row: ReportRowDto = {
    ...(granularity !== 'total' ? { period: periodOf(r.period, granularity) } : {}),
    ...(dims.includes('country') ? { country: String(r.country) } : {}),
    ...(dims.includes('platform') ? { platform: String(r.platform) } : {}),
    ...(dims.includes('creative_id') ? { creativeId: String(r.creative_id) } : {}),
    impressions,
    starts: n('starts'),
    firstQuartiles: n('first_quartiles'),
    midpoints: n('midpoints'),
    thirdQuartiles: n('third_quartiles'),
    completes: n('completes'),
    clicks: n('clicks'),
    ctr: ratio(n('clicks'), impressions),
    completionRate: ratio(n('completes'), impressions),
    reach,
    frequency: ratio(impressions, reach),
    reachMethod,
    // Milli-micros are summed first and rounded down once: spend is never rounded up into a bill.
    spendMicros: Number((sums?.spend_mmicros ?? 0n) / 1000n),
    writtenOffMicros: Number((sums?.written_off_mmicros ?? 0n) / 1000n),
    invalidImpressions: n('invalid_impressions'),
    invalidClicks: n('invalid_clicks'),
    invalidEvents: n('invalid_events'),
    invalidByReason: { expired: n('invalid_expired'), bot: n('invalid_bot'), sequence: n('invalid_sequence'), rateLimit: n('invalid_rate') },
  };
  return row;
}

function compareRows(a: ReportRowDto, b: ReportRowDto): number {
  const ka = [a.period ?? '', a.country ?? '', a.platform ?? '', a.creativeId ?? ''];
  const kb = [b.period ?? '', b.country ?? '', b.platform ?? '', b.creativeId ?? ''];
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i] < kb[i] ? -1 : 1;
  return 0;
}
