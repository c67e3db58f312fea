import { ALL_JOBS, FinalFailure, JobName, JobObserver, JobPayloads, JobQueue, Principal, actorOf } from '@app/platform';
import { ExportRequests } from '@app/warehouse';
import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import type { Job } from 'bullmq';
import { DeadLetter, DeadLetterRepository, DeadLetterState } from '../repositories/dead-letter.repository';

export type { DeadLetter };

/** Job ids of retried dead letters; the completion of such a job marks its dead letter done. */
const RETRY_PREFIX = 'dead-letter-retry-';

/** The job id of a dead letter's retry (one per attempt to retry it). */
export function retryJobIdOf(deadLetterId: string, now: number): string {
  return `${RETRY_PREFIX}${deadLetterId}-r${now}`;
}

/** The dead letter a job retries, or null when the job is not the retry of one. */
export function deadLetterIdOfRetry(jobId: string | undefined): string | null {
  return jobId?.startsWith(RETRY_PREFIX) ? jobId.slice(RETRY_PREFIX.length).split('-r')[0] : null;
}

/** What a dead letter says of the error: its message, named by its class unless that is plain Error, at most 60,000 characters. */
export function deadLetterError(error: Error): string {
  return `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}`.slice(0, 60_000);
}

/**
 * Jobs that failed every attempt: recorded by the worker (through the JobObserver) with queue, name,
 * payload, error and attempts; listed, retried on request (a new job with the same name and payload),
 * marked done when the retry completes, and pruned by age.
 */
@Injectable()
export class DeadLettersService {
  constructor(
    private readonly repo: DeadLetterRepository,
    private readonly jobs: JobQueue,
    private readonly exports: ExportRequests,
  ) {}

  /** Worker side: starts recording (called by the monitoring jobs module). */
  listen(observer: JobObserver): void {
    observer.onFinalFailure((failure) => this.record(failure));
    observer.onCompleted((_queue, job) => this.markDone(job));
  }

  async record({ queue, job, error, attempts }: FinalFailure): Promise<void> {
    await this.repo.insert({ queue, jobName: job.name, jobId: job.id ?? null, payload: job.data, error: deadLetterError(error), attempts });
    const retried = deadLetterIdOfRetry(job.id);
    // The retry of a dead letter failed in turn: that one is dead again (the new row has the new error).
    if (retried) await this.repo.markDeadAgain(retried);
  }

  private async markDone(job: Job): Promise<void> {
    if (job.id && deadLetterIdOfRetry(job.id)) await this.repo.markDone(job.id);
  }

  list(filter: { state?: DeadLetterState; queue?: string; cursor?: string; offset?: number; limit: number }): Promise<DeadLetter[]> {
    return this.repo.list(filter);
  }

  async get(id: string): Promise<DeadLetter> {
    const letter = await this.repo.find(id);
    if (!letter) throw new NotFoundException(`dead letter ${id} not found`);
    return letter;
  }

  /** Enqueues the job again with its payload; 409 when it is already being retried or done. */
  async retry(id: string, actor: Principal): Promise<DeadLetter> {
    const letter = await this.get(id);
    if (letter.state !== 'dead') throw new ConflictException(`dead letter ${id} is ${letter.state}, not dead: nothing to retry`);
    if (!(ALL_JOBS as readonly string[]).includes(letter.jobName)) throw new ConflictException(`job ${letter.jobName} no longer exists; it cannot be retried`);
    const retryJobId = retryJobIdOf(id, Date.now());
    if (!(await this.repo.claimForRetry(id, retryJobId, actorOf(actor)))) throw new ConflictException(`dead letter ${id} is being retried already`);
    // Read before enqueueing: the answer is the claim (202, retrying), however fast a worker then runs the job.
    const claimed = await this.get(id);
    try {
      if (letter.jobName === JobName.WarehouseExportDay) {
        // One export job per day: the retry is refused (409) while another export of the day is pending, and holds the day against requests.
        const payload = letter.payload as JobPayloads[JobName.WarehouseExportDay];
        await this.exports.retryExport(payload.date, payload, retryJobId);
      } else {
        await this.jobs.enqueue(letter.jobName as JobName, letter.payload as never, { jobId: retryJobId });
      }
    } catch (err) {
      await this.repo.releaseClaim(id);
      throw err;
    }
    return claimed;
  }

  async prune(retentionDays: number): Promise<{ deleted: number }> {
    return { deleted: await this.repo.deleteOlderThan(retentionDays) };
  }
}
