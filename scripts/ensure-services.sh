#!/usr/bin/env bash
# Makes sure MariaDB (127.0.0.1:3306, root, empty password), Redis (127.0.0.1:6379) and a local
# three-master Redis Cluster (127.0.0.1:7001-7003, scripts/ensure-redis-cluster.sh) are running: starts
# them if they are installed, installs them with apt-get (as root) if they are not.
# Used by .ci/run and the README's quick start; a no-op when all of them already answer.
set -euo pipefail

need_apt_update=1
apt_install() {
  if [ "$need_apt_update" = 1 ]; then apt-get update -qq; need_apt_update=0; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

mysql_up() { mariadb-admin -h 127.0.0.1 -u root ping >/dev/null 2>&1 || mysqladmin -h 127.0.0.1 -u root ping >/dev/null 2>&1; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if ! mysql_up; then
  command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || apt_install mariadb-server mariadb-client
  echo "starting MariaDB"
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql 2>/dev/null || (service mariadb start || true)
  for _ in $(seq 1 60); do mysql_up && break; sleep 1; done
  mysql_up || { echo "MariaDB did not start"; exit 1; }
  # A fresh Debian install authenticates root by socket only; let tests connect over TCP with no password.
  mariadb -u root -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket; FLUSH PRIVILEGES;" 2>/dev/null || true
fi

if ! redis_up; then
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  echo "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do redis_up && break; sleep 1; done
  redis_up || { echo "Redis did not start"; exit 1; }
fi
command -v redis-server >/dev/null 2>&1 || apt_install redis-server
"$(dirname "$0")/ensure-redis-cluster.sh"

echo "MariaDB, Redis and the Redis Cluster are up"
