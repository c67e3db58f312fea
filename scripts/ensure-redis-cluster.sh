#!/usr/bin/env bash
# Makes sure a local three-master Redis Cluster (no replicas) answers on 127.0.0.1, next to the plain
# Redis: ports REDIS_CLUSTER_PORTS (default "7001 7002 7003"), node files in REDIS_CLUSTER_DIR (default
# /tmp/adp-redis-cluster), nothing persisted but the cluster's own node table. Starts the nodes that do
# not answer and creates the cluster when no node holds slots yet; a no-op when the cluster is up.
# Used by ensure-services.sh and by the test setup (test/support/redis-cluster.ts).
set -euo pipefail

read -r -a ports <<<"${REDIS_CLUSTER_PORTS:-7001 7002 7003}"
dir="${REDIS_CLUSTER_DIR:-/tmp/adp-redis-cluster}"
first="${ports[0]}"

node_up() { redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null | grep -q PONG; }
cluster_ok() { redis-cli -h 127.0.0.1 -p "$first" cluster info 2>/dev/null | grep -q 'cluster_state:ok'; }
slots_of() { redis-cli -h 127.0.0.1 -p "$1" cluster info 2>/dev/null | sed -n 's/^cluster_slots_assigned:\([0-9]*\).*/\1/p'; }

if cluster_ok; then echo "Redis Cluster is up (${ports[*]})"; exit 0; fi

command -v redis-server >/dev/null 2>&1 || { echo "redis-server is not installed (scripts/ensure-services.sh installs it)"; exit 1; }
mkdir -p "$dir"
for port in "${ports[@]}"; do
  node_up "$port" && continue
  echo "starting Redis Cluster node on $port"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --cluster-enabled yes \
    --cluster-config-file "nodes-$port.conf" --cluster-node-timeout 5000 --save "" --appendonly no \
    --dir "$dir" --logfile "$dir/redis-$port.log" --pidfile "$dir/redis-$port.pid"
done
for port in "${ports[@]}"; do
  for _ in $(seq 1 50); do node_up "$port" && break; sleep 0.2; done
  node_up "$port" || { echo "Redis Cluster node on $port did not start (see $dir/redis-$port.log)"; exit 1; }
done

# Nodes that remember their cluster (nodes-*.conf) re-form it by themselves; fresh ones are joined here.
if [ "$(slots_of "$first")" = "0" ]; then
  addresses=()
  for port in "${ports[@]}"; do addresses+=("127.0.0.1:$port"); done
  echo "creating Redis Cluster ${addresses[*]}"
  redis-cli --cluster create "${addresses[@]}" --cluster-replicas 0 --cluster-yes >/dev/null
fi
for _ in $(seq 1 100); do cluster_ok && break; sleep 0.2; done
cluster_ok || { echo "Redis Cluster on ${ports[*]} is not ok: $(redis-cli -p "$first" cluster info | head -1)"; exit 1; }
echo "Redis Cluster is up (${ports[*]})"
