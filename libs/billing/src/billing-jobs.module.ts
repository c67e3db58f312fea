import { AdvertiserEntity, LineItemEntity } from '@app/campaigns';
import { MeasurementJobsModule } from '@app/measurement';
import { provideSchedules } from '@app/platform';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CloseMonthJob, ReconcileJob } from './jobs/billing-jobs';
import { BILLING_SCHEDULES } from './jobs/billing.schedules';
import { InvoiceRepository } from './repositories/invoice.repository';
import { ReconciliationRepository } from './repositories/reconciliation.repository';
import { InvoicesService } from './services/invoices.service';
import { MonthCloseService } from './services/month-close.service';
import { ReconciliationService } from './services/reconciliation.service';

/** Month close and reconciliation jobs and their schedules; imported by apps/worker only. */
@Module({
  imports: [MeasurementJobsModule, TypeOrmModule.forFeature([AdvertiserEntity, LineItemEntity])],
  providers: [InvoiceRepository, ReconciliationRepository, InvoicesService, MonthCloseService, ReconciliationService, CloseMonthJob, ReconcileJob, provideSchedules('billing', BILLING_SCHEDULES)],
  exports: [MonthCloseService, ReconciliationService],
})
export class BillingJobsModule {}
