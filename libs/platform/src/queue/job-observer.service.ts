import { Injectable, Logger } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import { JobStatsService } from '../telemetry/job-stats.service';

/** A job that failed its last attempt (or failed for good): what a dead letter records. */
export interface FinalFailure {
  queue: string;
  job: Job;
  error: Error;
  /** Attempts made, this one included. */
  attempts: number;
}

/**
 * How long a job waited for a worker, ms: from when it was due to when a worker took it. It was due at
 * `timestamp + opts.delay`, the delay it was added with: BullMQ sets the job's own `delay` field to 0
 * when it moves a delayed job to waiting, so that field would count the delay as wait. A job
 * scheduler's job is added when the previous one is taken, delayed until its slot (the millis in its id
 * `repeat:<scheduler>:<millis>`), so the interval between runs is never counted as wait either.
 */
export function queueWaitMs(job: Pick<Job, 'timestamp' | 'processedOn' | 'opts'>, startedAt: number): number {
  return (job.processedOn ?? startedAt) - (job.timestamp + (job.opts.delay ?? 0));
}

type FinalFailureListener = (failure: FinalFailure) => Promise<void>;
type CompletedListener = (queue: string, job: Job) => Promise<void>;

/**
 * Sees every job attempt in the worker: records its wait (queued → processed, from BullMQ's own
 * timestamps) and run time, and tells listeners (monitoring's dead letters) about jobs that failed
 * their last attempt. Recording never fails a job: a Redis hiccup costs a sample, not a run.
 */
@Injectable()
export class JobObserver {
  private readonly logger = new Logger(JobObserver.name);
  private readonly finalFailureListeners: FinalFailureListener[] = [];
  private readonly completedListeners: CompletedListener[] = [];

  constructor(private readonly stats: JobStatsService) {}

  onFinalFailure(listener: FinalFailureListener): void {
    this.finalFailureListeners.push(listener);
  }

  onCompleted(listener: CompletedListener): void {
    this.completedListeners.push(listener);
  }

  /** Runs one attempt of `job` through `run`, measuring it. */
  async observe<T>(queue: string, job: Job, run: () => Promise<T>): Promise<T> {
    const startedAt = Date.now();
    // Only a first attempt waited in the queue; a retry's wait is its backoff.
    const waitMs = job.attemptsMade === 0 ? queueWaitMs(job, startedAt) : null;
    try {
      const result = await run();
      await this.record(queue, job, waitMs, Date.now() - startedAt, true);
      for (const listener of this.completedListeners) await listener(queue, job).catch((err: Error) => this.logger.warn(`after ${job.name} ${job.id}: ${err.message}`));
      return result;
    } catch (err) {
      await this.record(queue, job, waitMs, Date.now() - startedAt, false);
      const error = err instanceof Error ? err : new Error(String(err));
      const attempts = job.attemptsMade + 1;
      if (error instanceof UnrecoverableError || error.name === 'UnrecoverableError' || attempts >= (job.opts.attempts ?? 1)) {
        for (const listener of this.finalFailureListeners) {
          await listener({ queue, job, error, attempts }).catch((e: Error) => this.logger.error(`dead letter of ${job.name} ${job.id} not recorded: ${e.message}`));
        }
      }
      throw err;
    }
  }

  private async record(queue: string, job: Job, waitMs: number | null, runMs: number, ok: boolean): Promise<void> {
    await this.stats.record(queue, job.name, { waitMs, runMs, ok }).catch(() => undefined);
  }
}
