import { AdvertiserEntity, LineItemEntity } from '@app/campaigns';
import { MeasurementModule } from '@app/measurement';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { InvoicesController } from './controllers/invoices.controller';
import { InvoiceRepository } from './repositories/invoice.repository';
import { ReconciliationRepository } from './repositories/reconciliation.repository';
import { InvoicesService } from './services/invoices.service';
import { ReconciliationService } from './services/reconciliation.service';

/** Invoices API (API process): generate, read, issue, pay, void, CSV, reconciliation results. */
@Module({
  imports: [MeasurementModule, TypeOrmModule.forFeature([AdvertiserEntity, LineItemEntity])],
  controllers: [InvoicesController],
  providers: [InvoiceRepository, ReconciliationRepository, InvoicesService, ReconciliationService],
  exports: [InvoicesService],
})
export class BillingModule {}
