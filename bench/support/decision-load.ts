import autocannon from 'autocannon';

export interface Load {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

/** autocannon POSTs to `url`, each request with the next of `bodies` (JSON). */
export function decisionLoad(url: string, bodies: readonly string[], options: { seconds: number; connections: number }): Promise<Load> {
  let next = 0;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        connections: options.connections,
        duration: options.seconds,
        requests: [{ setupRequest: (req: any) => ({ ...req, body: bodies[next++ % bodies.length] }) }],
      },
      (err: Error | null, result: any) => {
        if (err) return reject(err);
        resolve({ requestsPerSecond: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors, non2xx: result.non2xx });
      },
    );
  });
}
