import { JobHandler, JobName, JobPayloads } from '@app/platform';
import { Injectable } from '@nestjs/common';
import { DayExporter, TableExportResult } from '../export/day-exporter.service';
import { ExportPlanner, PlanResult } from '../export/export-planner.service';
import { ExportVerifier, TableVerification } from '../verification/export-verifier.service';

@Injectable()
export class WarehouseJobs {
  constructor(
    private readonly planner: ExportPlanner,
    private readonly exporter: DayExporter,
    private readonly verifier: ExportVerifier,
  ) {}

  @JobHandler(JobName.WarehousePlanExports)
  plan(): Promise<PlanResult> {
    return this.planner.plan();
  }

  /** Exports the day, then verifies it. A day held by another run throws: the job retries later. */
  @JobHandler(JobName.WarehouseExportDay)
  async exportDay(payload: JobPayloads[JobName.WarehouseExportDay]): Promise<{ exported: TableExportResult[]; verified: TableVerification[] }> {
    const exported = await this.exporter.exportDay(payload.date);
    return { exported, verified: await this.verifier.verifyDay(payload.date) };
  }

  @JobHandler(JobName.WarehouseVerifyDay)
  verifyDay(payload: JobPayloads[JobName.WarehouseVerifyDay]): Promise<TableVerification[]> {
    return this.verifier.verifyDay(payload.date);
  }
}
