const { nodeFlags } = require('./node-flags') as { nodeFlags: (app: string, env?: NodeJS.ProcessEnv) => string[] };

describe('nodeFlags', () => {
  it('gives the API its defaults when the API_* variables are absent or empty', () => {
    expect(nodeFlags('api', {})).toEqual(['--max-old-space-size=256', '--max-semi-space-size=16', '--no-parallel-scavenge', '--concurrent-marking-max-worker-num=1']);
    expect(nodeFlags('api', { API_MAX_OLD_SPACE_MB: '', API_SEMI_SPACE_MB: '' })).toEqual(nodeFlags('api', {}));
  });

  it('passes valid settings through, and API_PARALLEL_GC=1 restores V8 defaults', () => {
    expect(nodeFlags('api', { API_MAX_OLD_SPACE_MB: '1024', API_SEMI_SPACE_MB: '64', API_PARALLEL_GC: '1' })).toEqual(['--max-old-space-size=1024', '--max-semi-space-size=64']);
  });

  it('refuses malformed or out-of-range values, naming each variable', () => {
    expect(() => nodeFlags('api', { API_MAX_OLD_SPACE_MB: 'lots' })).toThrow(/API_MAX_OLD_SPACE_MB="lots": must be a whole number from 64 to 65536/);
    expect(() => nodeFlags('api', { API_SEMI_SPACE_MB: '0' })).toThrow(/API_SEMI_SPACE_MB="0"/);
    expect(() => nodeFlags('api', { API_SEMI_SPACE_MB: '1.5', API_PARALLEL_GC: 'yes' })).toThrow(/API_SEMI_SPACE_MB="1\.5"[\s\S]*API_PARALLEL_GC="yes"/);
  });

  it('gives the worker its heap caps, from the WORKER_* variables only', () => {
    expect(nodeFlags('worker', { API_MAX_OLD_SPACE_MB: 'lots' })).toEqual(['--max-old-space-size=256', '--max-semi-space-size=8']);
    expect(nodeFlags('worker', { WORKER_MAX_OLD_SPACE_MB: '512', WORKER_SEMI_SPACE_MB: '16' })).toEqual(['--max-old-space-size=512', '--max-semi-space-size=16']);
    expect(() => nodeFlags('worker', { WORKER_MAX_OLD_SPACE_MB: '32', WORKER_SEMI_SPACE_MB: 'x' })).toThrow(/WORKER_MAX_OLD_SPACE_MB="32": must be a whole number from 64 to 65536[\s\S]*WORKER_SEMI_SPACE_MB="x"/);
  });

  it('gives other processes no flags', () => {
    expect(nodeFlags('migrate', { API_MAX_OLD_SPACE_MB: 'lots', WORKER_MAX_OLD_SPACE_MB: 'lots' })).toEqual([]);
  });
});
