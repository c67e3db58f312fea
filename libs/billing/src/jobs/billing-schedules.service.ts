import { JobName, JobQueue, RedisService, WorkerConfig } from '@app/platform';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';

/** Schedules live in Redis; re-upserting them this often brings them back after Redis lost its data. */
const ENSURE_EVERY_MS = 10_000;

/** Registers the month close and the reconciliation (one schedule per job, however many workers). */
@Injectable()
export class BillingSchedules implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(BillingSchedules.name);
  private timer?: NodeJS.Timeout;
  private readonly onReady = () => void this.ensure();

  constructor(
    private readonly jobs: JobQueue,
    private readonly redis: RedisService,
    private readonly config: WorkerConfig,
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
      await this.jobs.schedule(JobName.BillingCloseMonth, this.config.BILLING_MONTH_CLOSE_EVERY_MS, { trigger: 'schedule' });
      await this.jobs.schedule(JobName.BillingReconcile, this.config.BILLING_RECONCILE_EVERY_MS, { trigger: 'schedule' });
    } catch (err) {
      this.logger.warn(`billing schedules not registered yet: ${(err as Error).message}`);
    }
  }
}
