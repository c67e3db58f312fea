import type { FastifyInstance } from 'fastify';
import type { MetricsService } from './metrics.service';

/** Records every response in the latency histogram, labelled by route pattern (not raw URL). */
export function registerHttpMetrics(fastify: FastifyInstance, metrics: MetricsService): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions?.url ?? 'unmatched';
    metrics.httpDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });
}
