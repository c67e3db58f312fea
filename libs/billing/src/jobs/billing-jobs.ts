import { JobHandler, JobName } from '@app/platform';
import { Injectable } from '@nestjs/common';
import { MonthCloseService } from '../services/month-close.service';
import { ReconciliationService } from '../services/reconciliation.service';

@Injectable()
export class CloseMonthJob {
  constructor(private readonly monthClose: MonthCloseService) {}

  @JobHandler(JobName.BillingCloseMonth)
  run(): Promise<{ drafted: number; advertisers: number }> {
    return this.monthClose.close();
  }
}

@Injectable()
export class ReconcileJob {
  constructor(private readonly reconciliation: ReconciliationService) {}

  @JobHandler(JobName.BillingReconcile)
  run(): Promise<{ checked: number; mismatches: number }> {
    return this.reconciliation.reconcile();
  }
}
