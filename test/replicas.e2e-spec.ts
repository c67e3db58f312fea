import { join } from 'node:path';
import { http } from './support/http';
import { createPlacementVia } from './support/measurement-fixtures';
import { ManagedProcess, ROOT, freePort, startProcess, waitFor } from './support/processes';
import { ensureRedisCluster } from './support/redis-cluster';
import { Stack } from './support/stack';

const { nodeFlags } = require('../scripts/node-flags') as { nodeFlags: (app: string) => string[] };

/**
 * Two real API processes on one MySQL, on one Redis and on a three-master Redis Cluster (own stacks): a
 * listener's frequency cap holds whichever replica answers, in turn or at once, and a budget is shared
 * (on a cluster through the ledger's leases and listener-keyed caps).
 */
describe.each([
  { redis: 'one Redis', suffix: 'x', cluster: false },
  { redis: 'a Redis Cluster', suffix: 'xc', cluster: true },
])('two API replicas on $redis (own stack)', ({ suffix, cluster }) => {
  const runId = `${process.env.E2E_RUN_ID}${suffix}`;
  let stack: Stack;
  let second: ManagedProcess;
  let secondUrl: string;

  beforeAll(async () => {
    stack = await Stack.start({ dbName: `adp_test_${runId}`, queuePrefix: `test-${runId}`, redisClusterNodes: cluster ? ensureRedisCluster() : undefined });
    const port = await freePort();
    secondUrl = `http://127.0.0.1:${port}`;
    second = startProcess(`test-${runId}-api-2`, process.execPath, [...nodeFlags('api'), join(ROOT, 'dist/apps/api/src/main.js')], { ...stack.env, PORT: String(port), PUBLIC_BASE_URL: secondUrl });
    await waitFor(async () => (await fetch(`${secondUrl}/health/ready`)).status === 200, 30_000, 'the second API');
  });

  afterAll(async () => {
    await second?.stop();
    await stack?.stop();
    await stack?.dropData();
  }, 120_000);

  const decide = (baseUrl: string, userId: string) =>
    http('POST', '/v1/decisions', { key: null, baseUrl, body: { placement: 'replicas', user: { id: userId }, device: { platform: 'ios' }, geo: { country: 'US' } } });

  it('holds a frequency cap of 2 per listener across both replicas, alternating and concurrent', async () => {
    const p = await createPlacementVia(stack.baseUrl, { frequencyCaps: [{ maxImpressions: 2, periodSeconds: 3600 }] });
    for (const path of [`/v1/campaigns/${p.campaignId}/activate`, `/v1/line-items/${p.lineItemId}/activate`]) expect((await http('POST', path, { baseUrl: stack.baseUrl })).status).toBe(200);
    // Both replicas see the line item (catalog changes reach every replica over Redis).
    for (const url of [stack.baseUrl, secondUrl]) await waitFor(async () => (await decide(url, `probe-${url}`)).body.decisions.length === 1, 15_000, `${url} to serve`);

    let alternating = 0;
    for (let i = 0; i < 10; i++) alternating += (await decide(i % 2 ? secondUrl : stack.baseUrl, 'alternating')).body.decisions.length;
    expect(alternating).toBe(2);

    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => decide(i % 2 ? secondUrl : stack.baseUrl, 'concurrent')));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(answers.reduce((n, a) => n + a.body.decisions.length, 0)).toBe(2);

    // Impressions played through either replica keep counting against the cap.
    const ads = answers.flatMap((a) => a.body.decisions as Array<{ tracking: { impression: string } }>);
    for (const [i, ad] of ads.entries()) expect((await fetch(ad.tracking.impression.replace(/^http:\/\/[^/]+/, i % 2 ? stack.baseUrl : secondUrl))).status).toBe(204);
    expect((await decide(secondUrl, 'concurrent')).body.decisions).toEqual([]);
    expect((await decide(stack.baseUrl, 'concurrent')).body.decisions).toEqual([]);
  });

  it('shares one budget: 30 concurrent decisions over both replicas fill a 10-impression budget exactly', async () => {
    const p = await createPlacementVia(stack.baseUrl, { rateMicros: 1_000_000, budgetMicros: 10_000, frequencyCaps: [], priority: 1 });
    for (const path of [`/v1/campaigns/${p.campaignId}/activate`, `/v1/line-items/${p.lineItemId}/activate`]) expect((await http('POST', path, { baseUrl: stack.baseUrl })).status).toBe(200);
    // Explained decisions are real ones: what the probes are served of the line item counts too.
    const mine = (answers: Array<{ body: { decisions: Array<{ lineItemId: string }> } }>) => answers.flatMap((a) => a.body.decisions).filter((d) => d.lineItemId === p.lineItemId).length;
    let probed = 0;
    await waitFor(async () => {
      const answers = await Promise.all([stack.baseUrl, secondUrl].map((url) => http('POST', '/v1/decisions?explain=true', { baseUrl: url, body: { placement: 'x', user: { id: 'explain' }, device: { platform: 'ios' }, geo: { country: 'US' } } })));
      probed += mine(answers);
      return answers.every((a) => a.body.explanation?.some((e: { lineItemId: string }) => e.lineItemId === p.lineItemId));
    }, 15_000, 'both replicas to know the line item');
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => decide(i % 2 ? secondUrl : stack.baseUrl, `budget-${i}`)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(mine(answers) + probed).toBe(10);
  });
});
