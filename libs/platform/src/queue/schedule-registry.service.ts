import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { WorkerConfig } from '../config/worker.config';
import { RedisService, withTimeout } from '../redis/redis.service';
import { JobQueue } from './job-queue.service';
import { ALL_JOBS, ALL_QUEUES, JOBS, QueueName } from './jobs';
import { DeclaredSchedules, ScheduleDefinition } from './schedules';

/**
 * Worker side of the schedules: the one place every repeatable job is registered. It collects the
 * schedules each lib declared (provideSchedules), upserts them all at boot (so a changed interval
 * takes effect), then every SCHEDULES_CHECK_EVERY_MS compares them with the job schedulers present
 * in Redis and puts back the missing ones: a Redis that lost its data has every schedule again
 * within one check, without a restart. Upserts are idempotent, so any number of workers may do this.
 */
@Injectable()
export class ScheduleRegistry implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ScheduleRegistry.name);
  private schedules: ScheduleDefinition[] = [];
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private readonly onReady = () => void this.check(true);

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly jobs: JobQueue,
    private readonly redis: RedisService,
    @Inject(WorkerConfig) private readonly config: WorkerConfig,
  ) {}

  onModuleInit(): void {
    const byJob = new Map<string, string>();
    for (const wrapper of this.discovery.getProviders()) {
      const declared = wrapper.instance as unknown;
      if (!(declared instanceof DeclaredSchedules)) continue;
      for (const schedule of declared.resolve(this.config)) {
        const other = byJob.get(schedule.job);
        if (other) throw new Error(`job ${schedule.job} is scheduled twice (by ${other} and ${declared.owner}); one schedule per job`);
        byJob.set(schedule.job, declared.owner);
        this.schedules.push(schedule);
      }
    }
  }

  /** Every declared schedule (what the worker keeps registered). */
  all(): readonly ScheduleDefinition[] {
    return this.schedules;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.check(true);
    this.timer = setInterval(() => void this.check(false), this.config.SCHEDULES_CHECK_EVERY_MS);
    this.timer.unref();
    this.redis.client.on('ready', this.onReady);
    this.logger.log(`${this.schedules.length} schedule(s) kept registered: ${this.schedules.map((s) => s.job).join(', ')}`);
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    this.redis.client.off('ready', this.onReady);
  }

  /** Upserts all (`all`) or only the schedules missing from Redis; never throws (logged, retried next time). */
  check(all: boolean): Promise<void> {
    this.running ??= this.ensure(all)
      .catch((err: Error) => this.logger.warn(`schedules not checked (retrying in ${this.config.SCHEDULES_CHECK_EVERY_MS} ms): ${err.message}`))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async ensure(all: boolean): Promise<void> {
    const byQueue = new Map<QueueName, ScheduleDefinition[]>();
    for (const schedule of this.schedules) {
      const queue = JOBS[schedule.job].queue;
      byQueue.set(queue, [...(byQueue.get(queue) ?? []), schedule]);
    }
    const restored: string[] = [];
    for (const [queueName, schedules] of byQueue) {
      const queue = this.jobs.queue(queueName);
      const present = all ? new Set<string>() : new Set((await withTimeout(queue.getJobSchedulers(0, -1), 5000, 'list job schedulers')).map((s) => s.key));
      for (const schedule of schedules) {
        if (present.has(schedule.job)) continue;
        await withTimeout(this.jobs.upsertSchedule(schedule), 5000, `schedule ${schedule.job}`);
        if (!all) restored.push(schedule.job);
      }
    }
    if (restored.length > 0) this.logger.warn(`schedule(s) missing from Redis put back: ${restored.join(', ')}`);
    if (all) await this.removeRetired();
  }

  /** Schedulers of jobs no longer in the registry (renamed or retired) would only enqueue jobs nobody handles. */
  private async removeRetired(): Promise<void> {
    const known = new Set<string>(ALL_JOBS);
    for (const queueName of ALL_QUEUES) {
      const queue = this.jobs.queue(queueName);
      for (const scheduler of await withTimeout(queue.getJobSchedulers(0, -1), 5000, 'list job schedulers')) {
        if (known.has(scheduler.key)) continue;
        await withTimeout(queue.removeJobScheduler(scheduler.key), 5000, `remove scheduler ${scheduler.key}`);
        this.logger.warn(`removed the schedule of retired job ${scheduler.key} from queue ${queueName}`);
      }
    }
  }
}
