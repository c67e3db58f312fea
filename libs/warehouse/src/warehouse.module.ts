import { Module } from '@nestjs/common';
import { ExportsController } from './controllers/exports.controller';
import { ExportRequests } from './export/export-requests.service';
import { ExportStateRepository } from './repositories/export-state.repository';

/** The API side of the warehouse export: /v1/ops/exports. */
@Module({
  controllers: [ExportsController],
  providers: [ExportStateRepository, ExportRequests],
  exports: [ExportRequests],
})
export class WarehouseModule {}
