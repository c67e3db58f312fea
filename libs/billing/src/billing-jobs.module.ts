import { AdvertiserEntity, LineItemEntity } from '@app/campaigns';
import { MeasurementJobsModule } from '@app/measurement';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BillingSchedules } from './jobs/billing-schedules.service';
import { CloseMonthJob, ReconcileJob } from './jobs/billing-jobs';
import { InvoiceRepository } from './repositories/invoice.repository';
import { InvoicesService } from './services/invoices.service';
import { MonthCloseService } from './services/month-close.service';
import { ReconciliationService } from './services/reconciliation.service';

/** Month close and reconciliation jobs and their schedules; imported by apps/worker only. */
@Module({
  imports: [MeasurementJobsModule, TypeOrmModule.forFeature([AdvertiserEntity, LineItemEntity])],
  providers: [InvoiceRepository, InvoicesService, MonthCloseService, ReconciliationService, CloseMonthJob, ReconcileJob, BillingSchedules],
})
export class BillingJobsModule {}
