import { fork } from 'node:child_process';
import { join } from 'node:path';

/**
 * Open-loop load at a steady rate, for latency at a given throughput ("p99 at 1,000 decisions/s").
 *
 * autocannon's `overallRate` is a per-second budget: every connection fires its share back to back at
 * the start of each second and then waits, so "1,000/s" arrives as bursts at several times that rate,
 * and its coordinated-omission correction then adds synthetic samples at a 1 ms interval. Here request
 * i is due at start + i / rate, sent on a keep-alive connection, and its latency is measured from the
 * time it was due (not from when it was sent), so a server that falls behind is charged for the wait
 * too, as in wrk2. The generator runs in a process of its own (paced-load-child.js), so that the
 * orchestrator's own pauses are not charged to the server.
 */
export interface PacedOptions {
  url: string;
  method: 'GET' | 'POST';
  rate: number;
  seconds: number;
  /** Request i sends bodies[i % length] (JSON) and/or asks for paths[i % length] (default: the url's path). */
  bodies?: string[];
  paths?: string[];
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

export function pacedLoad(options: PacedOptions): Promise<PacedResult> {
  const child = fork(join(__dirname, 'paced-load-child.js'), [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (message: PacedResult & { error?: string }) => (message.error ? reject(new Error(message.error)) : resolve(message)));
    child.once('exit', (code) => reject(new Error(`paced load generator exited (${code}) without a result`)));
    child.send(options);
  });
}
