import { JobName, JobQueue, PlatformConfig, QueueName, RedisService, withTimeout } from '@app/platform';
import { ConflictException, Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import type { JobType } from 'bullmq';
import { ExportStateRepository } from '../repositories/export-state.repository';
import { exportLockName } from './export-connection';

/** Job states in which an export of the day is still to run or running. */
const PENDING = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);
const PENDING_TYPES: JobType[] = ['wait', 'active', 'delayed', 'prioritized', 'waiting-children'];
/** How long one request may hold a day while it checks and enqueues, ms (released at once when done). */
const REQUEST_LOCK_MS = 10_000;

export const exportJobId = (day: string) => `export-day-${day}`;
export const verifyJobId = (day: string) => `verify-day-${day}`;

/**
 * Asks for a day's export (API, planner, and the retry of a dead export): one job per day (id
 * export-day-YYYY-MM-DD, or dead-letter-retry-… for a retried dead letter), refused with 409 while any
 * export job of the day is queued, running or waiting for its retry, or while `npm run export` holds
 * the day. Check and enqueue run under a short Redis lock per day, so of concurrent requests exactly one
 * is accepted.
 */
@Injectable()
export class ExportRequests {
  constructor(
    private readonly jobs: JobQueue,
    private readonly state: ExportStateRepository,
    private readonly redisService: RedisService,
    @Inject(PlatformConfig) private readonly config: PlatformConfig,
  ) {}

  async requestExport(day: string, trigger: 'schedule' | 'request'): Promise<{ jobId: string }> {
    const jobId = exportJobId(day);
    await this.exclusively(day, async () => {
      await this.clearFinished(jobId, `an export of ${day} is already queued or running`);
      await this.jobs.enqueue(JobName.WarehouseExportDay, { date: day, trigger }, { jobId });
    });
    return { jobId };
  }

  /** Enqueues the retry of a dead export of `day` as `jobId`; 409 on the same terms as a request. */
  async retryExport(day: string, payload: { date: string; trigger: 'schedule' | 'request' }, jobId: string): Promise<void> {
    await this.exclusively(day, () => this.jobs.enqueue(JobName.WarehouseExportDay, payload, { jobId }).then(() => undefined));
  }

  /**
   * Runs `enqueue` only when no export job of the day is pending nor the day held by a run, holding the
   * day's request lock meanwhile: without it, concurrent requests for a day whose last job had failed
   * each removed it and each answered 202 for one job.
   */
  private async exclusively(day: string, enqueue: () => Promise<void>): Promise<void> {
    const release = await this.redis(this.redisService.tryLock(this.redisService.key('warehouse', 'export-request', day), REQUEST_LOCK_MS), 'lock the day');
    if (!release) throw new ConflictException(`an export of ${day} is already being requested`);
    try {
      if (await this.exportPending(day)) throw new ConflictException(`an export of ${day} is already queued or running`);
      if (await this.state.lockHeld(exportLockName(this.config.DB_NAME, day))) throw new ConflictException(`an export of ${day} is already running`);
      await enqueue();
    } finally {
      await release();
    }
  }

  async requestVerification(day: string): Promise<{ jobId: string }> {
    const jobId = verifyJobId(day);
    await this.clearFinished(jobId, `a verification of ${day} is already queued or running`);
    await this.jobs.enqueue(JobName.WarehouseVerifyDay, { date: day }, { jobId });
    return { jobId };
  }

  /**
   * Whether an export job of the day, whatever its id (a dead letter's retry has its own), is queued,
   * running or waiting for a retry. The warehouse queue holds a job or two per day, so it is read whole.
   */
  async exportPending(day: string): Promise<boolean> {
    const jobs = await this.redis(this.jobs.queue(QueueName.Warehouse).getJobs(PENDING_TYPES), 'read the export jobs');
    return jobs.some((job) => job?.name === JobName.WarehouseExportDay && (job.data as { date?: string }).date === day);
  }

  /** A finished (kept) job of the same id is removed so that the day can run again; a pending one is a conflict. */
  private async clearFinished(jobId: string, conflict: string): Promise<void> {
    const existing = await this.redis(this.jobs.queue(QueueName.Warehouse).getJob(jobId), 'read the job');
    if (!existing) return;
    if (PENDING.has(await this.redis(existing.getState(), 'read the job state'))) throw new ConflictException(conflict);
    await this.redis(existing.remove(), 'remove the finished job');
  }

  private async redis<T>(promise: Promise<T>, what: string): Promise<T> {
    try {
      return await withTimeout(promise, 2000, what);
    } catch (err) {
      throw new ServiceUnavailableException(`queue unavailable (Redis): ${(err as Error).message}`);
    }
  }
}
