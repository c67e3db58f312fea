import { JobName, JobQueue, RedisService } from '@app/platform';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';

/** Aggregation runs at least this often, ms (ingestion also asks for runs after commits). */
export const AGGREGATE_EVERY_MS = 1000;
/** How often a lost Redis is noticed and the counters rebuilt, ms. */
export const RESTORE_CHECK_EVERY_MS = 2000;
/** How often rejected beacons past their retention are deleted, ms. */
export const PRUNE_REJECTED_EVERY_MS = 3_600_000;
/** Schedules live in Redis; re-upserting them this often brings them back after Redis lost its data. */
const ENSURE_EVERY_MS = 10_000;

/** Registers the worker's repeating measurement jobs (one schedule per job, however many workers). */
@Injectable()
export class MeasurementSchedules implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MeasurementSchedules.name);
  private timer?: NodeJS.Timeout;
  private readonly onReady = () => void this.ensure();

  constructor(
    private readonly jobs: JobQueue,
    private readonly redis: RedisService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.ensure();
    this.timer = setInterval(() => void this.ensure(), ENSURE_EVERY_MS);
    this.timer.unref();
    this.redis.client.on('ready', this.onReady);
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    this.redis.client.off('ready', this.onReady);
  }

  private async ensure(): Promise<void> {
    try {
      await this.jobs.schedule(JobName.MeasurementAggregate, AGGREGATE_EVERY_MS, { trigger: 'schedule' });
      await this.jobs.schedule(JobName.MeasurementRestoreCounters, RESTORE_CHECK_EVERY_MS, { trigger: 'schedule' });
      await this.jobs.schedule(JobName.MeasurementPruneRejected, PRUNE_REJECTED_EVERY_MS, { trigger: 'schedule' });
    } catch (err) {
      this.logger.warn(`measurement schedules not registered yet: ${(err as Error).message}`);
    }
  }
}
