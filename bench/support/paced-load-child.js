/* global require, process */
/**
 * The open-loop generator of paced-load.ts, in a process of its own: forked with a small heap and
 * nothing else to do, so that its own pauses (a benchmark's orchestrator holds seeded data, autocannon
 * state and timers) are not charged to the server under test. Receives the options over IPC, sends the
 * raw latencies back.
 */
const { Agent, request } = require('node:http');

process.once('message', (options) => {
  run(options).then(
    (result) => process.send(result, () => process.exit(0)),
    (err) => process.send({ error: String(err && err.stack) }, () => process.exit(1)),
  );
});

async function run(options) {
  const target = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets || 64 });
  const total = Math.round(options.rate * options.seconds);
  const latencies = new Float64Array(total);
  const lag = new Float64Array(total);
  let completed = 0;
  let errors = 0;
  let non2xx = 0;
  let sent = 0;
  let inFlight = 0;
  let drained = () => {};
  const bodies = options.bodies ? options.bodies.map((b) => Buffer.from(b)) : undefined;
  const paths = options.paths;
  const basePath = target.pathname + target.search;
  const started = performance.now();
  const dueAt = (i) => started + (i * 1000) / options.rate;

  const settle = () => {
    inFlight--;
    if (inFlight === 0 && sent === total) drained();
  };
  const fire = (i, due) => {
    lag[i] = performance.now() - due;
    inFlight++;
    const body = bodies ? bodies[i % bodies.length] : undefined;
    const headers = { ...options.headers };
    if (body) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = body.length;
    }
    const req = request({ agent, host: target.hostname, port: target.port, method: options.method, path: paths ? paths[i % paths.length] : basePath, headers }, (res) => {
      res.resume();
      res.on('end', () => {
        latencies[completed++] = performance.now() - due;
        if (res.statusCode >= 400) non2xx++;
        settle();
      });
    });
    req.on('error', () => {
      errors++;
      settle();
    });
    req.end(body);
  };

  while (sent < total) {
    const now = performance.now();
    // Everything that is due goes out now; then sleep until the next one is due.
    while (sent < total && dueAt(sent) <= now) {
      fire(sent, dueAt(sent));
      sent++;
    }
    await new Promise((r) => setTimeout(r, Math.max(0, dueAt(sent) - performance.now())));
  }
  if (inFlight > 0) await new Promise((r) => (drained = r));
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  const done = Array.from(latencies.subarray(0, completed)).sort((a, b) => a - b);
  const lags = Array.from(lag).sort((a, b) => a - b);
  const at = (q) => (done.length ? done[Math.min(done.length - 1, Math.floor(q * done.length))] : NaN);
  return {
    sent,
    completed,
    errors,
    non2xx,
    rate: completed / elapsed,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: done.length ? done[done.length - 1] : NaN,
    sendLagP99: lags.length ? lags[Math.floor(0.99 * lags.length)] : NaN,
  };
}
