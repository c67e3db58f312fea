import { JobHandler, JobName } from '@app/platform';
import { Injectable } from '@nestjs/common';
import { CompletionService } from '../services/completion.service';

@Injectable()
export class CompleteExpiredJob {
  constructor(private readonly completion: CompletionService) {}

  @JobHandler(JobName.CampaignsCompleteExpired)
  async run(): Promise<{ campaigns: number; lineItems: number }> {
    return this.completion.completeExpired(new Date());
  }
}
