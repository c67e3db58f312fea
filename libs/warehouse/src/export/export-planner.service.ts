import { PlatformConfig } from '@app/platform';
import { ConflictException, Inject, Injectable, Logger } from '@nestjs/common';
import { ExportRow, ExportStateRepository } from '../repositories/export-state.repository';
import { closesAtMs, daysBetween, lastClosedDay } from './export-days';
import { needOf } from './export-plan';
import { ExportRequests } from './export-requests.service';

/** Exports enqueued per planning run at most (a backlog is worked off over the following runs). */
export const MAX_EXPORTS_PER_PLAN = 10;

export interface PlanResult {
  exports: string[];
  verifications: string[];
  /** Days that need work but already have a run queued or going. */
  busy: string[];
}

/**
 * The daily export's planner, run every hour: every closed UTC day from the oldest raw event's to the
 * latest closed one that is not yet exported, final and verified gets an export (or, if only its
 * verification is missing, a verification). A day closes TRACKING_TOKEN_TTL plus an hour after its end,
 * so each day is exported once, final, within the hour after it closes; a missed run catches up.
 */
@Injectable()
export class ExportPlanner {
  private readonly logger = new Logger(ExportPlanner.name);

  constructor(
    private readonly state: ExportStateRepository,
    private readonly requests: ExportRequests,
    @Inject(PlatformConfig) private readonly config: PlatformConfig,
  ) {}

  /** Closed days not yet exported, final and verified, oldest first, with what each needs. */
  async pendingDays(nowMs: number): Promise<Array<{ day: string; need: 'verify' | 'export'; closesAtMs: number }>> {
    const first = await this.state.firstRawEventDay();
    const last = lastClosedDay(nowMs, this.config.TRACKING_TOKEN_TTL);
    if (!first || first > last) return [];
    const byDay = new Map<string, ExportRow[]>();
    for (const row of await this.state.list({ from: first, to: last })) byDay.set(row.day, [...(byDay.get(row.day) ?? []), row]);
    const out: Array<{ day: string; need: 'verify' | 'export'; closesAtMs: number }> = [];
    for (const day of daysBetween(first, last)) {
      const need = needOf(byDay.get(day) ?? []);
      if (need !== 'done') out.push({ day, need, closesAtMs: closesAtMs(day, this.config.TRACKING_TOKEN_TTL) });
    }
    return out;
  }

  async plan(now = new Date()): Promise<PlanResult> {
    const result: PlanResult = { exports: [], verifications: [], busy: [] };
    for (const { day, need } of await this.pendingDays(now.getTime())) {
      if (result.exports.length >= MAX_EXPORTS_PER_PLAN) break;
      try {
        if (need === 'verify') {
          await this.requests.requestVerification(day);
          result.verifications.push(day);
        } else {
          await this.requests.requestExport(day, 'schedule');
          result.exports.push(day);
        }
      } catch (err) {
        if (!(err instanceof ConflictException)) throw err;
        result.busy.push(day);
      }
    }
    if (result.exports.length + result.verifications.length > 0) this.logger.log(`export planned for ${result.exports.join(', ') || 'no day'}; verification for ${result.verifications.join(', ') || 'no day'}`);
    return result;
  }
}
