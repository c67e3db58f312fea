import { getQueueToken } from '@nestjs/bullmq';
import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Job, JobsOptions, Queue } from 'bullmq';
import { withTimeout } from '../redis/redis.service';
import { JOBS, JobName, JobPayloads, QueueName } from './jobs';
import type { ScheduleDefinition } from './schedules';

/** Per-call overrides; the registry's options stay the defaults. */
export type EnqueueOptions = Pick<JobsOptions, 'jobId' | 'delay' | 'priority'>;

/** The typed producer: every enqueue in the code base goes through here. */
@Injectable()
export class JobQueue {
  private readonly queues = new Map<QueueName, Queue>();

  constructor(private readonly moduleRef: ModuleRef) {}

  queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = this.moduleRef.get<Queue>(getQueueToken(name), { strict: false });
      if (!queue) throw new Error(`queue ${name} is not registered`);
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** Adds a job; answers 503 within a couple of seconds when Redis is unreachable. */
  async enqueue<N extends JobName>(name: N, payload: JobPayloads[N], options: EnqueueOptions = {}): Promise<Job> {
    const definition = JOBS[name];
    try {
      return await withTimeout(
        this.queue(definition.queue).add(name, payload, { ...definition.options, ...options }),
        2000,
        `enqueue ${name}`,
      );
    } catch (err) {
      throw new ServiceUnavailableException(`queue unavailable (Redis): ${(err as Error).message}`);
    }
  }

  /**
   * Creates or updates the job scheduler of one declared schedule (its id is the job name, so there is
   * one schedule per job however many processes call this). Only the ScheduleRegistry calls it: every
   * repeatable job is declared with provideSchedules, so none is forgotten after Redis loses its data.
   */
  async upsertSchedule(schedule: ScheduleDefinition): Promise<void> {
    const definition = JOBS[schedule.job];
    const repeat = 'everyMs' in schedule.repeat ? { every: schedule.repeat.everyMs } : { pattern: schedule.repeat.pattern, tz: schedule.repeat.tz };
    await this.queue(definition.queue).upsertJobScheduler(schedule.job, repeat, { name: schedule.job, data: schedule.payload, opts: definition.options });
  }
}
