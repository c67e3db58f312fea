import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './processes';

/** The local three-master cluster of scripts/ensure-redis-cluster.sh. */
const LOCAL_CLUSTER_NODES = '127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003';

/**
 * The Redis Cluster tests run on: TEST_REDIS_CLUSTER_NODES when set (a cluster of your own, left as it
 * is), else the local one, started by scripts/ensure-redis-cluster.sh when it does not answer (a no-op
 * when it does). Sets TEST_REDIS_CLUSTER_NODES for the processes and files that follow.
 */
export function ensureRedisCluster(): string {
  if (process.env.TEST_REDIS_CLUSTER_NODES) return process.env.TEST_REDIS_CLUSTER_NODES;
  execFileSync(join(ROOT, 'scripts/ensure-redis-cluster.sh'), { stdio: ['ignore', 'ignore', 'inherit'], timeout: 60_000 });
  process.env.TEST_REDIS_CLUSTER_NODES = LOCAL_CLUSTER_NODES;
  return LOCAL_CLUSTER_NODES;
}
