import { Agent, request } from 'node:http';

/**
 * Open-loop load at a steady rate, for latency at a given throughput ("p99 at 1,000 decisions/s").
 *
 * autocannon's `overallRate` is a per-second budget: every connection fires its share back to back at
 * the start of each second and then waits, so "1,000/s" arrives as bursts at several times that rate,
 * and its coordinated-omission correction then adds synthetic samples at a 1 ms interval. Here request
 * i is due at start + i / rate, sent on a keep-alive connection, and its latency is measured from the
 * time it was due (not from when it was sent), so a server that falls behind is charged for the wait
 * too, as in wrk2.
 */
export interface PacedOptions {
  url: string;
  method: 'GET' | 'POST';
  rate: number;
  seconds: number;
  /** Request body (or query suffix for GET) of request i. */
  body?: (i: number) => string;
  path?: (i: number) => string;
  headers?: Record<string, string>;
  /** Upper bound of requests in flight (sockets). */
  maxSockets?: number;
}

export interface PacedResult {
  sent: number;
  completed: number;
  errors: number;
  non2xx: number;
  /** Completed requests per second over the run. */
  rate: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** p99 of how late requests left the generator (its own stalls; included in the latencies). */
  sendLagP99: number;
}

export async function pacedLoad(options: PacedOptions): Promise<PacedResult> {
  const target = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 });
  const total = Math.round(options.rate * options.seconds);
  const latencies: number[] = [];
  const lag: number[] = [];
  let errors = 0;
  let non2xx = 0;
  let sent = 0;
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();

  const fire = (i: number, due: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const sentAt = performance.now();
      lag.push(sentAt - due);
      const body = options.body?.(i);
      const req = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          method: options.method,
          path: options.path?.(i) ?? target.pathname + target.search,
          headers: { ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}), ...options.headers },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(performance.now() - due);
            if ((res.statusCode ?? 0) >= 400) non2xx++;
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(body);
    });

  while (sent < total) {
    const now = performance.now();
    // Everything that is due goes out now; then sleep until the next one is due.
    while (sent < total && started + (sent * 1000) / options.rate <= now) {
      const p = fire(sent, started + (sent * 1000) / options.rate);
      inFlight.add(p);
      void p.then(() => inFlight.delete(p));
      sent++;
    }
    const next = started + (sent * 1000) / options.rate;
    await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  lag.sort((a, b) => a - b);
  const at = (q: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] : NaN);
  return { sent, completed: latencies.length, errors, non2xx, rate: latencies.length / elapsed, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: latencies[latencies.length - 1] ?? NaN, sendLagP99: lag[Math.floor(0.99 * lag.length)] ?? NaN };
}
