import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { Job, UnrecoverableError } from 'bullmq';
import { JOB_HANDLER } from './job-handler.decorator';
import { ALL_JOBS, JobName } from './jobs';

type BoundHandler = (payload: unknown, job: Job) => Promise<unknown>;

/**
 * Worker side of the registry: finds every @JobHandler method among the providers, refuses to boot
 * when a registered job has no handler (or two), and runs jobs by name.
 */
@Injectable()
export class JobDispatcher implements OnModuleInit {
  private readonly logger = new Logger(JobDispatcher.name);
  private readonly handlers = new Map<JobName, BoundHandler>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const fn = instance[method] as (...args: unknown[]) => Promise<unknown>;
        const name = this.reflector.get<JobName | undefined>(JOB_HANDLER, fn);
        if (!name) continue;
        if (this.handlers.has(name)) throw new Error(`job ${name} has two handlers`);
        this.handlers.set(name, fn.bind(instance));
      }
    }
    const missing = ALL_JOBS.filter((name) => !this.handlers.has(name));
    if (missing.length > 0) {
      throw new Error(`worker cannot start: no handler for job(s) ${missing.join(', ')} (add a @JobHandler in the lib's jobs module)`);
    }
    this.logger.log(`handlers ready for ${this.handlers.size} job(s)`);
  }

  async run(job: Job): Promise<unknown> {
    const handler = this.handlers.get(job.name as JobName);
    if (!handler) throw new UnrecoverableError(`no handler for job ${job.name}`);
    return handler(job.data, job);
  }
}
