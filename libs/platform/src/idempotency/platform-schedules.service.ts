import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { JobQueue } from '../queue/job-queue.service';
import { JobName } from '../queue/jobs';
import { RedisService } from '../redis/redis.service';

/** How often expired Idempotency-Key answers are deleted, ms. */
export const PRUNE_IDEMPOTENCY_EVERY_MS = 3_600_000;
/** Schedules live in Redis; re-upserting them this often brings them back after Redis lost its data. */
const ENSURE_EVERY_MS = 10_000;

/** Registers the platform's repeating jobs (one schedule per job, however many workers). */
@Injectable()
export class PlatformSchedules implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PlatformSchedules.name);
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
      await this.jobs.schedule(JobName.PlatformPruneIdempotencyKeys, PRUNE_IDEMPOTENCY_EVERY_MS, { trigger: 'schedule' });
    } catch (err) {
      this.logger.warn(`platform schedules not registered yet: ${(err as Error).message}`);
    }
  }
}
