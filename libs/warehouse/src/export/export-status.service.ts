import { Injectable } from '@nestjs/common';
import { ExportStateRepository } from '../repositories/export-state.repository';
import { ExportPlanner } from './export-planner.service';

/** What the SLA monitor reads: how late the export is, and how many final days disagree with MySQL. */
@Injectable()
export class ExportStatus {
  constructor(
    private readonly planner: ExportPlanner,
    private readonly state: ExportStateRepository,
  ) {}

  /**
   * Hours past the deadline (EXPORT_DEADLINE_HOURS after the day closed) of the oldest closed day not
   * yet exported, final and verified; 0 when none is late.
   */
  async hoursPastDeadline(deadlineHours: number, nowMs: number): Promise<number> {
    const late = (await this.planner.pendingDays(nowMs)).find((d) => nowMs > d.closesAtMs + deadlineHours * 3_600_000);
    return late ? Math.round(((nowMs - late.closesAtMs - deadlineHours * 3_600_000) / 3_600_000) * 100) / 100 : 0;
  }

  /** (day, table) exports that are final and whose verification found a difference. */
  mismatchCount(): Promise<number> {
    return this.state.mismatchCount();
  }
}
