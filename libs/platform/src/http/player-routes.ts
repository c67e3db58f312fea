import { Injectable, Logger, NotFoundException, OnApplicationBootstrap } from '@nestjs/common';
import Fastify, { FastifyInstance, FastifyReply, FastifyRequest, RouteGenericInterface, preValidationHookHandler } from 'fastify';
import { RequestListener, Server, ServerOptions, createServer } from 'node:http';
import { ApiKeyService, bearerKey } from '../auth/api-key.service';
import type { Principal } from '../auth/principal';
import { ApiConfig, jsonBodyLimits } from '../config/api.config';
import { MetricsService } from '../telemetry/metrics.service';
import { replyWithError } from './all-exceptions.filter';
import { registerGuardedJsonParsers } from './body-parsers';
import { HttpServerLimits, answerFrameworkError } from './client-errors';
import { registerHttpHooks, requestIdOf } from './http-hooks';
import { JsonSchema, schemaValidationError, schemaValidatorCompiler } from './schema-validation';

/** One answer of a player route, as the OpenAPI document describes it. */
export interface PlayerResponse {
  description: string;
  /** A JSON body, written by fast-json-stringify from this schema: fields it does not list are never written. */
  json?: JsonSchema;
  /** The uniform error body (ErrorBody). */
  error?: true;
  /** A body of another type, written by the handler (documented only). */
  content?: Record<string, { schema: JsonSchema; example?: unknown }>;
}

/**
 * A route players and SDKs call. Its JSON schemas are the whole contract: Fastify validates the
 * request parts with them before the handler runs (a 400 naming each bad field), serialises the JSON
 * answers with them, and the OpenAPI document is written from them (`documentPlayerRoutes`).
 * Nest's guards, pipes, interceptors and filters never see these requests.
 */
export interface PlayerRoute<G extends RouteGenericInterface = RouteGenericInterface> {
  method: 'GET' | 'POST';
  /** Fastify's syntax (`/t/:event`). */
  url: string;
  /** What the handler reads. Every route declares its query (players append parameters of their own), its path parameters and a POST its body. */
  request: { querystring: JsonSchema; params?: JsonSchema; body?: JsonSchema };
  /** Every answer by status; errors any route may give (COMMON_ERROR_RESPONSES) are added to the document. */
  responses: Record<number, PlayerResponse>;
  docs: { operationId: string; tags: string[]; summary: string; description: string; /** An API key is optional and means something. */ bearer?: boolean };
  /** Runs before validation: checks of the raw request, normalisations the schema then checks. */
  preValidation?: preValidationHookHandler[];
  handler(request: FastifyRequest<G>, reply: FastifyReply): Promise<unknown>;
}

/**
 * The routes players and SDKs call (decisions, VAST, tracking beacons): the busiest of the platform,
 * public, and expected to answer in a few milliseconds. They are served by a Fastify instance of their
 * own that shares the API's HTTP server (see `playerRoutesServer`), without the management API's
 * per-request machinery: Nest's guards, pipes, interceptors and middleware runner, the security-header
 * hooks and the request logger, about a tenth of a decision's CPU. They keep the same request ids,
 * latency histogram, uniform error body, body limit and JSON parsing; validation and serialisation
 * are each route's JSON schemas (PlayerRoute). The API registers them all in one place
 * (apps/api/src/player-route-table.ts).
 */
@Injectable()
export class PlayerRoutes implements OnApplicationBootstrap {
  private readonly logger = new Logger('HttpError');
  readonly fastify: FastifyInstance;
  private readonly exactPaths: string[] = [];
  private readonly prefixes: string[] = [];
  private started = false;
  private readonly trustsDeviceIp: (address: string) => boolean;

  constructor(
    config: ApiConfig,
    metrics: MetricsService,
    private readonly keys: ApiKeyService,
  ) {
    this.trustsDeviceIp = config.deviceIpTrust();
    this.fastify = Fastify({ bodyLimit: config.BODY_LIMIT_BYTES, trustProxy: config.trustProxy(), genReqId: requestIdOf, logger: false, frameworkErrors: answerFrameworkError, schemaErrorFormatter: schemaValidationError });
    this.fastify.setValidatorCompiler(schemaValidatorCompiler());
    registerHttpHooks(this.fastify, metrics);
    registerGuardedJsonParsers(this.fastify, jsonBodyLimits(config));
    this.fastify.setErrorHandler((error, request, reply) => replyWithError(error, request, reply, this.logger));
    // Same words as Nest's router for the rest of the API.
    this.fastify.setNotFoundHandler((request, reply) => replyWithError(new NotFoundException(`Cannot ${request.method} ${request.url.split('?')[0]}`), request, reply, this.logger));
  }

  /** Adds a route. A path parameter ends the part of the URL that sends requests here ('/t/:event' takes all of /t/). */
  route<G extends RouteGenericInterface>(route: PlayerRoute<G>): void {
    const { method, url, request, responses } = route;
    const param = url.indexOf(':');
    if (param >= 0 && !request.params) throw new Error(`${method} ${url}: a player route declares the schema of its path parameters`);
    if (method === 'POST' && !request.body) throw new Error(`${method} ${url}: a player route declares the schema of its body`);
    if (!Object.keys(responses).some((status) => Number(status) < 400)) throw new Error(`${method} ${url}: a player route declares its successful answers`);
    const response: Record<number, JsonSchema> = {};
    for (const [status, answer] of Object.entries(responses)) if (answer.json) response[Number(status)] = answer.json;
    if (param < 0) this.exactPaths.push(url);
    else this.prefixes.push(url.slice(0, param));
    this.fastify.route<G>({ method, url, schema: { ...request, response }, ...(route.preValidation ? { preValidation: route.preValidation } : {}), handler: (req, reply) => route.handler(req, reply) as never });
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

  /**
   * The listener's IP for the per-IP limit of served ads: the one the request names (`device.ip`, VAST's
   * `ip`) when its caller may name one (TRUST_DEVICE_IP: server-side ad insertion), else the caller's own.
   */
  listenerIp(request: FastifyRequest, named: string | undefined): string {
    return named !== undefined && this.trustsDeviceIp(request.ip) ? named : request.ip;
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
