import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Injectable, Type } from '@nestjs/common';
import type { Job } from 'bullmq';
import { JobDispatcher } from './job-dispatcher.service';
import { QueueName } from './jobs';

/**
 * One BullMQ consumer class per queue, created at boot so that concurrency comes from the validated
 * worker config. Each only hands jobs to the dispatcher.
 */
export function createQueueProcessor(queue: QueueName, concurrency: number): Type<WorkerHost> {
  @Processor(queue, { concurrency, lockDuration: 60000, maxStalledCount: 2 })
  @Injectable()
  class QueueProcessor extends WorkerHost {
    constructor(private readonly dispatcher: JobDispatcher) {
      super();
    }

    process(job: Job): Promise<unknown> {
      return this.dispatcher.run(job);
    }
  }
  Object.defineProperty(QueueProcessor, 'name', { value: `${queue.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase())}QueueProcessor` });
  return QueueProcessor;
}
