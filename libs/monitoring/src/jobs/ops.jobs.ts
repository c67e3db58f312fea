import { JobHandler, JobName, JobPayloads, WorkerConfig } from '@app/platform';
import { Injectable } from '@nestjs/common';
import { AlertService } from '../alerts/alert.service';
import { DeadLettersService } from '../dead-letters/dead-letters.service';
import { EvaluationResult, SlaMonitorService } from '../sla/sla-monitor.service';

@Injectable()
export class OpsJobs {
  constructor(
    private readonly monitor: SlaMonitorService,
    private readonly alerts: AlertService,
    private readonly deadLetters: DeadLettersService,
    private readonly config: WorkerConfig,
  ) {}

  @JobHandler(JobName.OpsEvaluateSlas)
  evaluate(): Promise<EvaluationResult> {
    return this.monitor.evaluate();
  }

  /** Throws until the webhook answers 2xx; the job's capped backoff retries it for about a week. */
  @JobHandler(JobName.OpsSendAlert)
  sendAlert(payload: JobPayloads[JobName.OpsSendAlert], job?: { attemptsMade: number }): Promise<string> {
    return this.alerts.deliver(payload.breachId, payload.status, (job?.attemptsMade ?? 0) === 0);
  }

  @JobHandler(JobName.OpsPruneDeadLetters)
  pruneDeadLetters(): Promise<{ deleted: number }> {
    return this.deadLetters.prune(this.config.DEAD_LETTER_RETENTION_DAYS);
  }
}
