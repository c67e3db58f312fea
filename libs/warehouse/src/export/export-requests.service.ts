import { JobName, JobQueue, PlatformConfig, QueueName, withTimeout } from '@app/platform';
import { ConflictException, Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import { ExportStateRepository } from '../repositories/export-state.repository';
import { exportLockName } from './export-connection';

/** Job states in which an export of the day is still to run or running. */
const PENDING = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

export const exportJobId = (day: string) => `export-day-${day}`;
export const verifyJobId = (day: string) => `verify-day-${day}`;

/**
 * Asks for a day's export (API and planner): one job per day (id export-day-YYYY-MM-DD), refused with
 * 409 while one is queued, running or waiting for its retry, or while `npm run export` holds the day.
 */
@Injectable()
export class ExportRequests {
  constructor(
    private readonly jobs: JobQueue,
    private readonly state: ExportStateRepository,
    @Inject(PlatformConfig) private readonly config: PlatformConfig,
  ) {}

  async requestExport(day: string, trigger: 'schedule' | 'request'): Promise<{ jobId: string }> {
    const jobId = exportJobId(day);
    await this.clearFinished(jobId, `an export of ${day} is already queued or running`);
    if (await this.state.lockHeld(exportLockName(this.config.DB_NAME, day))) throw new ConflictException(`an export of ${day} is already running`);
    await this.jobs.enqueue(JobName.WarehouseExportDay, { date: day, trigger }, { jobId });
    return { jobId };
  }

  async requestVerification(day: string): Promise<{ jobId: string }> {
    const jobId = verifyJobId(day);
    await this.clearFinished(jobId, `a verification of ${day} is already queued or running`);
    await this.jobs.enqueue(JobName.WarehouseVerifyDay, { date: day }, { jobId });
    return { jobId };
  }

  /** Whether an export job of the day is queued, running or waiting for a retry. */
  async exportPending(day: string): Promise<boolean> {
    const job = await this.redis(this.jobs.queue(QueueName.Warehouse).getJob(exportJobId(day)), 'read the export job');
    return !!job && PENDING.has(await this.redis(job.getState(), 'read the export job'));
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
