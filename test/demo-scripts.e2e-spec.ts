import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http } from './support/http';
import { ManagedProcess, ROOT, freePort, startProcess, waitFor } from './support/processes';
import { ADMIN_KEY, Stack } from './support/stack';
const { nodeFlags } = require('../scripts/node-flags') as { nodeFlags: (app: string) => string[] };

/**
 * `npm run seed` and `npm run simulate` as a newcomer runs them, on a stack of their own (the demo
 * line items serve everyone, which would fill other suites' decisions) with two API replicas: the
 * seed twice (the second run creates nothing), then listeners for a few seconds across both replicas,
 * whose report must agree with what they sent (exit code 0).
 */
function runScript(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', join(ROOT, 'scripts', script), ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('demo scripts (own stack, two replicas)', () => {
  const runId = `${Date.now().toString(36)}d${process.pid.toString(36)}`;
  let stack: Stack;
  let second: ManagedProcess;
  let secondUrl: string;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    stack = await Stack.start({ dbName: `adp_test_${runId}`, queuePrefix: `test-${runId}` });
    const port = await freePort();
    secondUrl = `http://127.0.0.1:${port}`;
    second = startProcess(`test-${runId}-api-2`, process.execPath, [...nodeFlags('api'), join(ROOT, 'dist/apps/api/src/main.js')], { ...stack.env, PORT: String(port), PUBLIC_BASE_URL: secondUrl });
    await waitFor(async () => (await fetch(`${secondUrl}/health/ready`)).status === 200, 30_000, 'the second API');
    dir = mkdtempSync(join(tmpdir(), 'seed-'));
    env = { API_URL: stack.baseUrl, ADMIN_API_KEY: ADMIN_KEY, SEED_KEYS_FILE: join(dir, 'keys.json') };
  });
  afterAll(async () => {
    await second?.stop();
    await stack?.stop();
    await stack?.dropData();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('seeds a demo data set once, prints working advertiser keys, and creates nothing the second time', async () => {
    const first = await runScript('seed.ts', [], env);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/25 created, 0 already there/);
    const keys = [...first.stdout.matchAll(/\s(adp_[\w-]+)/g)].map((m) => m[1]);
    expect(new Set(keys).size).toBe(4);

    const again = await runScript('seed.ts', [], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/0 created, 25 already there/);
    expect([...again.stdout.matchAll(/\s(adp_[\w-]+)/g)].map((m) => m[1])).toEqual(keys);

    const advertisers = (await http('GET', '/v1/advertisers?limit=100', { baseUrl: stack.baseUrl })).body.data;
    expect(advertisers.map((a: { currency: string }) => a.currency).sort()).toEqual(['CAD', 'EUR', 'JPY', 'USD']);
    const campaigns = await http('GET', '/v1/campaigns', { baseUrl: stack.baseUrl, key: keys[0] });
    expect(campaigns.status).toBe(200);
    expect(campaigns.body.data).toHaveLength(1);
    expect(campaigns.body.data[0].status).toBe('active');
  });

  it('simulates listeners across both replicas and finds the report agreeing with what they sent (exit 0)', async () => {
    const sim = await runScript('simulate.ts', ['--url', stack.baseUrl, '--url', secondUrl, '--seconds', '10', '--listeners', '12', '--speed', '6', '--rate', '8', '--bots', '0.2', '--offline', '0.25', '--seed', '42', '--settle-seconds', '90'], env);
    if (sim.code !== 0) throw new Error(`simulate exited ${sim.code}:\n${sim.stdout}\n${sim.stderr.slice(-2000)}`);
    expect(sim.stdout).toContain('✓ the platform reports exactly what was sent');
    expect(sim.stderr).toMatch(/100% .*ads \d+/);
  }, 180_000);
});
