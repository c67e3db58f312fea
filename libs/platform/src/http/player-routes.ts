import { Injectable, Logger, NotFoundException, OnApplicationBootstrap } from '@nestjs/common';
import Fastify, { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { RequestListener, Server, ServerOptions, createServer } from 'node:http';
import { ApiKeyService, bearerKey } from '../auth/api-key.service';
import type { Principal } from '../auth/principal';
import { ApiConfig, jsonBodyLimits } from '../config/api.config';
import { MetricsService } from '../telemetry/metrics.service';
import { replyWithError } from './all-exceptions.filter';
import { registerGuardedJsonParsers } from './body-parsers';
import { HttpServerLimits, answerFrameworkError } from './client-errors';
import { registerHttpHooks, requestIdOf } from './http-hooks';

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
  private readonly exactPaths: string[] = [];
  private readonly prefixes: string[] = [];
  private started = false;

  constructor(
    config: ApiConfig,
    metrics: MetricsService,
    private readonly keys: ApiKeyService,
  ) {
    this.fastify = Fastify({ bodyLimit: config.BODY_LIMIT_BYTES, trustProxy: config.trustProxy(), genReqId: requestIdOf, logger: false, frameworkErrors: answerFrameworkError });
    registerHttpHooks(this.fastify, metrics);
    registerGuardedJsonParsers(this.fastify, jsonBodyLimits(config));
    this.fastify.setErrorHandler((error, request, reply) => replyWithError(error, request, reply, this.logger));
    // Same words as Nest's router for the rest of the API.
    this.fastify.setNotFoundHandler((request, reply) => replyWithError(new NotFoundException(`Cannot ${request.method} ${request.url.split('?')[0]}`), request, reply, this.logger));
  }

  /** Adds a route. A path parameter ends the part of the URL that sends requests here ('/t/:event' takes all of /t/). */
  route(options: RouteOptions): void {
    const param = options.url.indexOf(':');
    if (param < 0) this.exactPaths.push(options.url);
    else this.prefixes.push(options.url.slice(0, param));
    this.fastify.route(options);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.fastify.ready();
    this.started = true;
  }

  /** Whether a request URL belongs here: a few prefix compares, nothing allocated (it runs for every request). */
  handles(url: string | undefined): boolean {
    if (!this.started || !url) return false;
    for (const path of this.exactPaths) {
      if (url.startsWith(path) && (url.length === path.length || url.charCodeAt(path.length) === 63 /* ? */)) return true;
    }
    for (const prefix of this.prefixes) if (url.startsWith(prefix)) return true;
    return false;
  }

  /**
   * The caller of a public route, if it sent an API key: as ApiKeyGuard resolves it for public routes
   * (a malformed or unknown key is simply no principal, counted against the client's failed
   * authentications; MySQL down is a 503).
   */
  async principal(request: FastifyRequest): Promise<Principal | undefined> {
    const key = bearerKey(request.headers.authorization);
    return key ? ((await this.keys.resolveForRequest(key, request.ip)) ?? undefined) : undefined;
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
 * Fastify instance, everything else to Nest's. Timeouts are set as Fastify sets them on its own servers,
 * then `limits` bound how long a client may take to send its headers and its whole request (a trickled
 * body is cut off with 408), checked every second or sooner.
 */
export function playerRoutesServer(player: () => PlayerRoutes | undefined, limits?: HttpServerLimits): (handler: RequestListener, options: ServerFactoryOptions) => Server {
  return (handler, options) => {
    const http: ServerOptions = { ...options.http };
    if (limits) {
      http.maxHeaderSize = limits.maxHeaderBytes;
      http.connectionsCheckingInterval = Math.max(50, Math.min(1000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4)));
    }
    const server = createServer(http, (req, res) => {
      const routes = player();
      if (routes?.handles(req.url)) routes.fastify.routing(req, res);
      else handler(req, res);
    });
    if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
    if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
    if (limits) {
      // Node requires headersTimeout <= requestTimeout.
      server.requestTimeout = limits.requestTimeoutMs;
      server.headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
    }
    server.setTimeout(options.connectionTimeout ?? 0);
    return server;
  };
}
