import { Injectable } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { JobHandler } from './job-handler.decorator';
import { JobDispatcher } from './job-dispatcher.service';
import { ALL_JOBS, JobName } from './jobs';

function handlersFor(names: JobName[]) {
  @Injectable()
  class Handlers {
    readonly seen: unknown[] = [];
  }
  for (const name of names) {
    const method = `handle_${name.replace(/\W/g, '_')}`;
    Object.defineProperty(Handlers.prototype, method, {
      value: async function (this: Handlers, payload: unknown) {
        this.seen.push([name, payload]);
        return name;
      },
      writable: true,
      configurable: true,
    });
    JobHandler(name)(Handlers.prototype, method, Object.getOwnPropertyDescriptor(Handlers.prototype, method)!);
  }
  return Handlers;
}

async function boot(names: JobName[]) {
  const Handlers = handlersFor(names);
  const moduleRef = await Test.createTestingModule({ imports: [DiscoveryModule], providers: [JobDispatcher, Handlers] }).compile();
  await moduleRef.init();
  return { moduleRef, handlers: moduleRef.get(Handlers) };
}

describe('JobDispatcher', () => {
  it('refuses to boot while a registered job has no handler, naming it', async () => {
    const [first, ...rest] = ALL_JOBS;
    await expect(boot(rest)).rejects.toThrow(new RegExp(`no handler for job\\(s\\) .*${first.replace('.', '\\.')}`));
  });

  it('runs each job by name with its payload', async () => {
    const { moduleRef, handlers } = await boot([...ALL_JOBS]);
    const dispatcher = moduleRef.get(JobDispatcher);
    const result = await dispatcher.run({ name: ALL_JOBS[0], data: { probeId: 'x' } } as never);
    expect(result).toBe(ALL_JOBS[0]);
    expect(handlers.seen).toEqual([[ALL_JOBS[0], { probeId: 'x' }]]);
    await expect(dispatcher.run({ name: 'unknown.job', data: {} } as never)).rejects.toThrow(/no handler/);
  });
});
