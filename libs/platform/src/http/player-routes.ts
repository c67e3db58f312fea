import { Injectable, Logger, NotFoundException, OnApplicationBootstrap, ServiceUnavailableException } from '@nestjs/common';
import Fastify, { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { IncomingMessage, RequestListener, Server, ServerOptions, createServer } from 'node:http';
import { ApiKeyService } from '../auth/api-key.service';
import type { Principal } from '../auth/principal';
import { ApiConfig } from '../config/api.config';
import { MetricsService } from '../telemetry/metrics.service';
import { uuidv7 } from '../util/uuid';
import { toErrorBody } from './all-exceptions.filter';
import { parseJsonAllowingEmpty, registerHttpHooks } from './http-hooks';

/** The caller's X-Request-Id when it is a sane token, else a new id; written back for the logs. */
export function requestIdOf(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && /^[\w.-]{1,128}$/.test(incoming) ? incoming : uuidv7();
  req.headers['x-request-id'] = id;
  return id;
}

/**
 * The routes players and SDKs call (decisions, VAST, tracking beacons): the busiest of the platform,
 * public, and expected to answer in a few milliseconds. They are served by a Fastify instance of their
 * own that shares the API's HTTP server (see `playerRoutesServer`), without the management API's
 * per-request machinery: Nest's guards, pipes, interceptors and middleware runner, the security-header
 * hooks and the request logger, about a tenth of a decision's CPU. They keep the same request ids,
 * latency histogram, uniform error body, body limit and JSON parsing.
 *
 * The controllers stay the one implementation and the OpenAPI description of these endpoints: they
 * register handlers here (on module init) that call their own methods.
 */
@Injectable()
export class PlayerRoutes implements OnApplicationBootstrap {
  private readonly logger = new Logger('HttpError');
  readonly fastify: FastifyInstance;
  private readonly exactPaths = new Set<string>();
  private readonly prefixes: string[] = [];
  private started = false;

  constructor(
    config: ApiConfig,
    metrics: MetricsService,
    private readonly keys: ApiKeyService,
  ) {
    this.fastify = Fastify({ bodyLimit: config.BODY_LIMIT_BYTES, trustProxy: true, genReqId: requestIdOf, logger: false });
    registerHttpHooks(this.fastify, metrics);
    const parse = this.fastify.getDefaultJsonParser('error', 'error');
    this.fastify.removeContentTypeParser('application/json');
    this.fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => parseJsonAllowingEmpty(parse, request, body as string, done));
    const fail = (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
      const body = toErrorBody(error);
      body.requestId = String(request.id);
      if (body.statusCode >= 500 && body.statusCode !== 503) this.logger.error({ err: error, method: request.method, url: request.url }, (error as Error).message);
      void reply.status(body.statusCode).header('content-type', 'application/json; charset=utf-8').send(body);
    };
    this.fastify.setErrorHandler(fail);
    // Same words as Nest's router for the rest of the API.
    this.fastify.setNotFoundHandler((request, reply) => fail(new NotFoundException(`Cannot ${request.method} ${request.url.split('?')[0]}`), request, reply));
  }

  /** Adds a route. A path parameter ends the part of the URL that sends requests here ('/t/:event' takes all of /t/). */
  route(options: RouteOptions): void {
    const param = options.url.indexOf(':');
    if (param < 0) this.exactPaths.add(options.url);
    else this.prefixes.push(options.url.slice(0, param));
    this.fastify.route(options);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.fastify.ready();
    this.started = true;
  }

  /** Whether a request URL belongs here (a Set lookup and a few prefix compares per request). */
  handles(url: string | undefined): boolean {
    if (!this.started || !url) return false;
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    if (this.exactPaths.has(path)) return true;
    for (const prefix of this.prefixes) if (path.startsWith(prefix)) return true;
    return false;
  }

  /**
   * The caller of a public route, if it sent an API key: as ApiKeyGuard resolves it for public routes
   * (a malformed or unknown key is simply no principal; MySQL down is a 503).
   */
  async principal(request: FastifyRequest): Promise<Principal | undefined> {
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) return undefined;
    try {
      return (await this.keys.resolve(match[1])) ?? undefined;
    } catch (err) {
      throw new ServiceUnavailableException(`cannot check the API key, database unavailable: ${(err as Error).message}`);
    }
  }
}

interface ServerFactoryOptions {
  http?: ServerOptions;
  keepAliveTimeout?: number;
  requestTimeout?: number;
  connectionTimeout?: number;
}

/**
 * The API's HTTP server (Fastify's `serverFactory`): requests for player routes go to `player()`'s
 * Fastify instance, everything else to Nest's. Timeouts are set as Fastify sets them on its own servers.
 */
export function playerRoutesServer(player: () => PlayerRoutes | undefined): (handler: RequestListener, options: ServerFactoryOptions) => Server {
  return (handler, options) => {
    const server = createServer(options.http ?? {}, (req, res) => {
      const routes = player();
      if (routes?.handles(req.url)) routes.fastify.routing(req, res);
      else handler(req, res);
    });
    if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
    if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
    server.setTimeout(options.connectionTimeout ?? 0);
    return server;
  };
}
