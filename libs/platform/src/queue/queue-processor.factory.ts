import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Injectable, Type } from '@nestjs/common';
import type { Job, MinimalJob } from 'bullmq';
import { JobDispatcher } from './job-dispatcher.service';
import { JobObserver } from './job-observer.service';
import { CAPPED_BACKOFF, CAPPED_BACKOFF_MAX_MS, QUEUE_WORKERS, QueueName } from './jobs';

/** BullMQ's custom backoff: exponential from the job's delay, capped (jobs that retry for days). */
export function backoffStrategy(attemptsMade: number, type?: string, _err?: Error, job?: MinimalJob): number {
  if (type !== CAPPED_BACKOFF) throw new Error(`unknown backoff type ${type}`);
  const backoff = job?.opts.backoff;
  const base = typeof backoff === 'object' && backoff.delay ? backoff.delay : 1000;
  return Math.min(base * 2 ** Math.max(0, attemptsMade - 1), CAPPED_BACKOFF_MAX_MS);
}

/**
 * One BullMQ consumer class per queue, created at boot so that concurrency comes from the validated
 * worker config. Each hands jobs to the dispatcher, through the observer that measures them.
 */
export function createQueueProcessor(queue: QueueName, concurrency: number): Type<WorkerHost> {
  const own = QUEUE_WORKERS[queue] ?? {};
  @Processor(queue, {
    concurrency: own.concurrency ?? concurrency,
    lockDuration: own.lockDurationMs ?? 60000,
    ...(own.stalledIntervalMs ? { stalledInterval: own.stalledIntervalMs } : {}),
    maxStalledCount: 2,
    settings: { backoffStrategy },
  })
  @Injectable()
  class QueueProcessor extends WorkerHost {
    constructor(
      private readonly dispatcher: JobDispatcher,
      private readonly observer: JobObserver,
    ) {
      super();
    }

    process(job: Job): Promise<unknown> {
      return this.observer.observe(queue, job, () => this.dispatcher.run(job));
    }
  }
  Object.defineProperty(QueueProcessor, 'name', { value: `${queue.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase())}QueueProcessor` });
  return QueueProcessor;
}
