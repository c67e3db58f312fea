import { JobHandler, JobName } from '@app/platform';
import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { CompletionService } from '../services/completion.service';

@Injectable()
export class CompleteExpiredJob implements OnApplicationBootstrap {
  private readonly logger = new Logger(CompleteExpiredJob.name);

  constructor(private readonly completion: CompletionService) {}

  /** Registers the periodic sweep from the worker; retried in the background while Redis is away. */
  onApplicationBootstrap(): void {
    const attempt = (delayMs: number) => {
      this.completion.scheduleSweep().catch((err: Error) => {
        this.logger.warn(`cannot schedule the completion sweep yet (retrying in ${delayMs} ms): ${err.message}`);
        setTimeout(() => attempt(Math.min(delayMs * 2, 30_000)), delayMs).unref();
      });
    };
    attempt(1000);
  }

  @JobHandler(JobName.CampaignsCompleteExpired)
  async run(): Promise<{ campaigns: number; lineItems: number }> {
    return this.completion.completeExpired(new Date());
  }
}
