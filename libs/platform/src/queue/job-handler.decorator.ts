import { SetMetadata } from '@nestjs/common';
import type { Job } from 'bullmq';
import type { JobName, JobPayloads } from './jobs';

export const JOB_HANDLER = 'platform:job-handler';

/** The signature of the handler of job N: it receives that job's payload type from the registry. */
export type JobHandlerFn<N extends JobName> = (payload: JobPayloads[N], job: Job<JobPayloads[N]>) => Promise<unknown>;

/**
 * Marks a provider method as the handler of one job of the registry; only the worker runs it. The
 * method must fit JobHandlerFn<N>: one that expects another job's payload does not compile.
 */
export function JobHandler<N extends JobName>(name: N) {
  return <M extends JobHandlerFn<N>>(target: object, key: string | symbol, descriptor: TypedPropertyDescriptor<M>): void => {
    SetMetadata(JOB_HANDLER, name)(target, key, descriptor);
  };
}
