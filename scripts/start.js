#!/usr/bin/env node
/**
 * `npm start`: checks MySQL and Redis, applies migrations, starts the API and one worker from the
 * build, and prints the URLs. For production run `npm run start:api` and `npm run start:worker`
 * separately, as many of each as needed.
 */
const { spawn } = require('node:child_process');
const { nodeFlags } = require('./node-flags');
const { existsSync } = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
if (existsSync(path.join(root, '.env')) && typeof process.loadEnvFile === 'function') process.loadEnvFile(path.join(root, '.env'));

const env = process.env;
// Every variable is validated before anything starts, by the same classes the processes use.
const { loadConfigOrExit, ApiConfig, WorkerConfig } = require(path.join(root, 'dist/libs/platform/src'));
const config = loadConfigOrExit(ApiConfig);
loadConfigOrExit(WorkerConfig);
try {
  nodeFlags('api');
  nodeFlags('worker');
} catch (err) {
  fail([err.message]);
}
const db = { host: config.DB_HOST, port: config.DB_PORT, user: config.DB_USER, password: config.DB_PASSWORD };
const redisUrl = new URL(config.REDIS_URL);
const port = config.PORT;

function fail(lines) {
  process.stderr.write(`\n${lines.join('\n')}\n\n`);
  process.exit(1);
}

async function checkMysql() {
  const mysql = require('mysql2/promise');
  try {
    const conn = await mysql.createConnection({ ...db, connectTimeout: 3000 });
    await conn.query('SELECT 1');
    await conn.end();
  } catch (err) {
    fail([
      `✗ MySQL is not reachable at ${db.host}:${db.port} as "${db.user}": ${err.code || err.message}`,
      '  Start it, then run npm start again:',
      '    sudo service mariadb start            (Debian/Ubuntu package)',
      '    docker compose up -d mysql            (with the docker-compose.yml here)',
      '  or point DB_HOST, DB_PORT, DB_USER, DB_PASSWORD at your server (see .env.example).',
    ]);
  }
}

function checkRedis() {
  return new Promise((resolve) => {
    const socket = net.createConnection({ host: redisUrl.hostname, port: Number(redisUrl.port || 6379) });
    const timer = setTimeout(() => socket.destroy(new Error('timeout')), 3000);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      clearTimeout(timer);
      socket.destroy();
      if (/^(\+PONG|-NOAUTH)/.test(data.toString())) return resolve();
      fail([`✗ Redis at ${redisUrl.host} answered unexpectedly: ${data.toString().trim()}`]);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      fail([
        `✗ Redis is not reachable at ${redisUrl.host}: ${err.code || err.message}`,
        '  Start it, then run npm start again:',
        '    redis-server --daemonize yes           (Debian/Ubuntu package redis-server)',
        '    docker compose up -d redis             (with the docker-compose.yml here)',
        '  or set REDIS_URL (see .env.example).',
      ]);
    });
  });
}

function run(name, file) {
  const child = spawn(process.execPath, [...nodeFlags(name), path.join(root, file)], { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'] });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      process.stderr.write(`\n${name} exited (${signal || code}); stopping the platform.\n`);
      stop(code || 1);
    }
  });
  return child;
}

let stopping = false;
let children = [];
function stop(code = 0) {
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null))).then(() => process.exit(code));
}

async function waitReady() {
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
      if (res.status === 200) return true;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

(async () => {
  await checkMysql();
  await checkRedis();
  const { migrate } = require(path.join(root, 'dist/db/migrate.js'));
  const applied = await migrate(config).catch((err) => fail([`✗ migrations failed: ${err.message}`]));
  process.stdout.write(applied.length ? `✓ migrations applied: ${applied.join(', ')}\n` : '✓ database schema is up to date\n');

  children = [run('api', 'dist/apps/api/src/main.js'), run('worker', 'dist/apps/worker/src/main.js')];
  process.on('SIGINT', () => stop(0));
  process.on('SIGTERM', () => stop(0));
  if (!(await waitReady())) fail(['✗ the API did not become ready within 60 s; see the logs above.']);
  const base = config.PUBLIC_BASE_URL;
  process.stdout.write(
    [
      '',
      '✓ Ad platform is running (API + 1 worker). Ctrl-C stops both.',
      `  API        ${base}/v1`,
      `  Swagger UI ${base}/docs   (OpenAPI: ${base}/docs-json)`,
      `  Queues     ${base}/ops/queues   (user admin, password: the admin key)`,
      `  SLAs       ${base}/v1/ops/sla   (admin key)`,
      `  Health     ${base}/health/ready`,
      `  Metrics    ${base}/metrics   (admin key${config.METRICS_PORT > 0 ? `; without a key on port ${config.METRICS_PORT}` : ''})`,
      `  Admin key  ${env.ADMIN_API_KEY ? '(ADMIN_API_KEY from your environment)' : 'dev-admin-key-change-me (set ADMIN_API_KEY in production)'}`,
      '  Demo data  npm run seed, then npm run simulate -- --seconds 60',
      '',
    ].join('\n') + '\n',
  );
})();
