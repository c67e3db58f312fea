import { ALL_QUEUES, ApiKeyService, JobQueue, bearerKey, requestIdOf } from '@app/platform';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const QUEUE_DASHBOARD_PATH = '/ops/queues';

/** The packages of the dashboard (the maintained bull-board), loaded when installed. */
export const QUEUE_DASHBOARD_PACKAGES = ['@bull-board/api', '@bull-board/fastify'];

/** The admin key of `Authorization: Bearer <key>` or of HTTP Basic (any user name, the key as password). */
export function presentedKey(header: string | undefined): string | null {
  const bearer = bearerKey(header);
  if (bearer) return bearer;
  const basic = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header)?.[1] : undefined;
  if (!basic) return null;
  const decoded = Buffer.from(basic, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 && colon < decoded.length - 1 ? decoded.slice(colon + 1) : null;
}

interface BullBoardModules {
  createBullBoard: (options: { queues: unknown[]; serverAdapter: unknown }) => unknown;
  BullMQAdapter: new (queue: unknown) => unknown;
  FastifyAdapter: new () => { setBasePath(path: string): unknown; registerPlugin(): (...args: never[]) => unknown };
}

function loadBullBoard(): BullBoardModules | null {
  try {
    // Loaded at run time so that the API builds and runs (without the dashboard) where they are not installed.
    const api = require('@bull-board/api') as Pick<BullBoardModules, 'createBullBoard'>;
    const adapter = require('@bull-board/api/bullMQAdapter') as Pick<BullBoardModules, 'BullMQAdapter'>;
    const fastify = require('@bull-board/fastify') as Pick<BullBoardModules, 'FastifyAdapter'>;
    return { createBullBoard: api.createBullBoard, BullMQAdapter: adapter.BullMQAdapter, FastifyAdapter: fastify.FastifyAdapter };
  } catch {
    return null;
  }
}

function deny(request: FastifyRequest, reply: FastifyReply, statusCode: 401 | 403 | 503, error: string, message: string): FastifyReply {
  if (statusCode === 401) reply.header('www-authenticate', 'Basic realm="ops", charset="UTF-8"');
  return reply.code(statusCode).type('application/json').send({ statusCode, error, message, requestId: requestIdOf(request.raw) });
}

/**
 * The dashboard's page in the OpenAPI document (it is served by bull-board, not by a Nest route): the
 * HTML page, and the uniform error body of its 401, 403 and 503.
 */
export function documentQueueDashboard(document: OpenAPIObject): void {
  const error = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } } });
  document.paths[QUEUE_DASHBOARD_PATH] = {
    get: {
      tags: ['operations'],
      summary: 'The queue dashboard (bull-board): admin key as a Bearer token, or as the password of HTTP Basic',
      security: [{ bearer: [] }],
      responses: {
        200: { description: 'The dashboard (HTML)', content: { 'text/html': { schema: { type: 'string' } } } },
        401: error('No key, or an invalid or revoked one'),
        403: error('Not the admin key'),
        503: error('The key cannot be checked (database down), or the dashboard is not installed'),
      },
    },
  };
}

/**
 * Mounts the queue dashboard (bull-board) at /ops/queues, admin only: the admin key as a Bearer token,
 * or as the password of HTTP Basic so that a browser can open it. Without the packages installed the
 * path answers 503 naming them (after the same check).
 */
export async function mountQueueDashboard(app: NestFastifyApplication): Promise<void> {
  const logger = new Logger('QueueDashboard');
  const fastify = app.getHttpAdapter().getInstance();
  const keys = app.get(ApiKeyService);
  fastify.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0];
    if (path !== QUEUE_DASHBOARD_PATH && !path.startsWith(`${QUEUE_DASHBOARD_PATH}/`)) return;
    const key = presentedKey(request.headers.authorization);
    if (!key) return deny(request, reply, 401, 'Unauthorized', 'the queue dashboard needs the admin key: Authorization: Bearer <key>, or HTTP Basic with the key as password');
    let principal;
    try {
      principal = await keys.resolve(key);
    } catch (err) {
      return deny(request, reply, 503, 'Service Unavailable', `cannot check the API key, database unavailable: ${(err as Error).message}`);
    }
    if (!principal) return deny(request, reply, 401, 'Unauthorized', 'invalid or revoked API key');
    if (principal.kind !== 'admin') return deny(request, reply, 403, 'Forbidden', 'the queue dashboard needs the admin key');
  });

  const modules = loadBullBoard();
  if (!modules) {
    logger.warn(`queue dashboard not mounted at ${QUEUE_DASHBOARD_PATH}: install ${QUEUE_DASHBOARD_PACKAGES.join(' and ')}`);
    const unavailable = (request: FastifyRequest, reply: FastifyReply) =>
      deny(request, reply, 503, 'Service Unavailable', `the queue dashboard is not installed (needs ${QUEUE_DASHBOARD_PACKAGES.join(', ')}); GET /v1/ops/queues has the same counts`);
    fastify.get(QUEUE_DASHBOARD_PATH, unavailable);
    fastify.get(`${QUEUE_DASHBOARD_PATH}/*`, unavailable);
    return;
  }
  const jobs = app.get(JobQueue);
  const serverAdapter = new modules.FastifyAdapter();
  serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
  modules.createBullBoard({ queues: ALL_QUEUES.map((name) => new modules.BullMQAdapter(jobs.queue(name))), serverAdapter });
  await app.register(serverAdapter.registerPlugin() as never, { prefix: QUEUE_DASHBOARD_PATH } as never);
}
