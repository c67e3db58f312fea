import { Injectable } from '@nestjs/common';
import { JobHandler } from '../queue/job-handler.decorator';
import { JobName } from '../queue/jobs';
import { IdempotencyStore } from './idempotency.store';

@Injectable()
export class PruneIdempotencyKeysJob {
  constructor(private readonly store: IdempotencyStore) {}

  @JobHandler(JobName.PlatformPruneIdempotencyKeys)
  run(): Promise<{ deleted: number }> {
    return this.store.prune();
  }
}
