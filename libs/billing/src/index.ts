export * from './billing.module';
export * from './billing-jobs.module';
export * from './services/invoice-lines';
export * from './services/invoices.service';
export * from './services/month-close.service';
export * from './services/reconciliation.service';
export * from './repositories/invoice.repository';
export * from './jobs/billing.schedules';
