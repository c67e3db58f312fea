import { provideSchedules } from '@app/platform';
import { Module } from '@nestjs/common';
import { DayExporter } from './export/day-exporter.service';
import { ExportPlanner } from './export/export-planner.service';
import { ExportRequests } from './export/export-requests.service';
import { ExportStatus } from './export/export-status.service';
import { WarehouseJobs } from './jobs/warehouse.jobs';
import { WAREHOUSE_SCHEDULES } from './jobs/warehouse.schedules';
import { ExportSourceRepository } from './repositories/export-source.repository';
import { ExportStateRepository } from './repositories/export-state.repository';
import { ExportVerifier } from './verification/export-verifier.service';

/** The warehouse export's jobs (planner, export, verification), its schedule, its status for the SLA monitor and its requests (dead-letter retries); apps/worker only. */
@Module({
  providers: [ExportStateRepository, ExportSourceRepository, ExportRequests, DayExporter, ExportVerifier, ExportPlanner, ExportStatus, WarehouseJobs, provideSchedules('warehouse', WAREHOUSE_SCHEDULES)],
  exports: [ExportStatus, ExportRequests],
})
export class WarehouseJobsModule {}
