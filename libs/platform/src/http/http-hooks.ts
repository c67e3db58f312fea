import type { FastifyInstance } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { uuidv7 } from '../util/uuid';
import type { MetricsService } from '../telemetry/metrics.service';

/** The caller's X-Request-Id when it is a sane token, else a new id; written back for the logs. */
export function requestIdOf(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && /^[\w.-]{1,128}$/.test(incoming) ? incoming : uuidv7();
  req.headers['x-request-id'] = id;
  return id;
}

/**
 * Fastify hooks every response goes through: the request id header (set by the adapter's genReqId
 * from X-Request-Id or a new id) and the latency histogram, labelled by route pattern, not raw URL.
 */
export function registerHttpHooks(fastify: FastifyInstance, metrics: MetricsService): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions?.url ?? 'unmatched';
    metrics.httpDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });
}
