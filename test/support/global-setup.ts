import { ensureRedisCluster } from './redis-cluster';
import { Stack } from './stack';

/**
 * One database and Redis prefix per test run, with a real API and worker process on them. Test files
 * reach it through E2E_BASE_URL; tests that break things (stop Redis, kill workers) start their own.
 * The Redis Cluster that cluster suites start their stacks on is made sure of here (TEST_REDIS_CLUSTER_NODES).
 */
export default async function globalSetup(): Promise<void> {
  ensureRedisCluster();
  const runId = `${Date.now().toString(36)}${process.pid.toString(36)}`;
  const stack = await Stack.start({ dbName: `adp_test_${runId}`, queuePrefix: `test-${runId}` });
  (globalThis as { __E2E_STACK__?: Stack }).__E2E_STACK__ = stack;
  process.env.E2E_BASE_URL = stack.baseUrl;
  process.env.E2E_RUN_ID = runId;
  process.env.E2E_DB_NAME = stack.env.DB_NAME;
  process.env.E2E_QUEUE_PREFIX = stack.env.QUEUE_PREFIX;
}
