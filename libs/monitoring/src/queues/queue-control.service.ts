import { ALL_QUEUES, JobQueue, QueueName, withTimeout } from '@app/platform';
import { Injectable, NotFoundException, ServiceUnavailableException } from '@nestjs/common';

/** Pauses and resumes a queue for every worker (BullMQ's pause is a flag in Redis that all workers obey). */
@Injectable()
export class QueueControlService {
  constructor(private readonly jobs: JobQueue) {}

  async pause(name: string): Promise<{ queue: string; paused: boolean }> {
    const queue = this.jobs.queue(this.known(name));
    await this.redis(queue.pause(), `pause ${name}`);
    return { queue: name, paused: await this.redis(queue.isPaused(), `state of ${name}`) };
  }

  async resume(name: string): Promise<{ queue: string; paused: boolean }> {
    const queue = this.jobs.queue(this.known(name));
    await this.redis(queue.resume(), `resume ${name}`);
    return { queue: name, paused: await this.redis(queue.isPaused(), `state of ${name}`) };
  }

  private known(name: string): QueueName {
    if (!(ALL_QUEUES as readonly string[]).includes(name)) throw new NotFoundException(`queue ${name} not found; queues: ${ALL_QUEUES.join(', ')}`);
    return name as QueueName;
  }

  private async redis<T>(promise: Promise<T>, what: string): Promise<T> {
    try {
      return await withTimeout(promise, 2000, what);
    } catch (err) {
      throw new ServiceUnavailableException(`${what} unavailable (Redis): ${(err as Error).message}`);
    }
  }
}
