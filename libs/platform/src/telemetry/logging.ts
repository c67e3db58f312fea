import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import type { PlatformConfig } from '../config/platform.config';
import { requestIdOf } from '../http/http-hooks';

/** Not logged per request: probes and scrapes. */
const QUIET_ROUTES = /^\/(health|metrics)(\/|$|\?)/;

/**
 * Player traffic gets no per-request logger at all: a child logger per request was a good part of its
 * allocations (and so of its GC pauses), and its record is elsewhere: the delivery and measurement
 * metrics, and every beacon's row in raw_events. Decisions, VAST and beacons never reach Nest's
 * middleware (PlayerRoutes); offline event batches do and are excluded here. Errors are still logged.
 */
export const PLAYER_ROUTES = [{ method: RequestMethod.POST, path: 'v1/events' }];

export type LogFormat = 'json' | 'pretty';

/** The pretty printer, an optional (development) dependency: resolved, not imported. */
const PRETTY_TARGET = 'pino-pretty';

function prettyInstalled(): boolean {
  try {
    require.resolve(PRETTY_TARGET);
    return true;
  } catch {
    return false;
  }
}

/**
 * LOG_FORMAT=auto is pretty in development only. Asked for explicitly, pretty without pino-pretty
 * installed stops the process; by default it falls back to JSON with one line saying so.
 */
export function logFormatOf(config: Pick<PlatformConfig, 'LOG_FORMAT' | 'NODE_ENV'>, installed: () => boolean = prettyInstalled): LogFormat {
  if (config.LOG_FORMAT === 'json') return 'json';
  if (config.LOG_FORMAT === 'auto' && config.NODE_ENV !== 'development') return 'json';
  if (installed()) return 'pretty';
  if (config.LOG_FORMAT === 'pretty') throw new Error(`LOG_FORMAT=pretty needs the ${PRETTY_TARGET} package (npm install --save-dev ${PRETTY_TARGET}@13.2.0), or set LOG_FORMAT=json`);
  process.stderr.write(`logs are JSON: install ${PRETTY_TARGET} (npm install --save-dev ${PRETTY_TARGET}@13.2.0) for coloured lines in development, or set LOG_FORMAT=json to silence this\n`);
  return 'json';
}

type LoggedRequest = IncomingMessage & { originalUrl?: string };

/** The request line a person reads: `GET /v1/campaigns 200 12ms`, tracking tokens elided. */
function requestLine(req: LoggedRequest, res: ServerResponse, responseTimeMs: number): string {
  return `${req.method} ${(req.originalUrl ?? req.url ?? '').replace(/([?&]d=)[^&]+/, '$1…')} ${res.statusCode} ${Math.round(responseTimeMs)}ms`;
}

/**
 * Structured logs, one line per request, each with the request id (from X-Request-Id or new): JSON
 * objects, or with `pretty` the same records printed by pino-pretty as coloured lines.
 */
export function loggerParams(level: string, format: LogFormat = 'json'): Params {
  const pretty =
    format === 'pretty'
      ? {
          transport: {
            target: PRETTY_TARGET,
            options: {
              colorize: true,
              singleLine: true,
              translateTime: 'SYS:HH:MM:ss.l',
              ignore: 'pid,hostname,context,req,res,responseTime,reqId',
              messageFormat: '{if context}[{context}] {end}{msg}',
            },
          },
          customSuccessMessage: requestLine,
          customErrorMessage: (req: LoggedRequest, res: ServerResponse, err: Error) => `${requestLine(req, res, 0).replace(/ 0ms$/, '')}: ${err.message}`,
        }
      : {};
  return {
    exclude: PLAYER_ROUTES,
    pinoHttp: {
      level,
      // The HTTP adapter has already settled the id (same rule) and written it into the header.
      genReqId: requestIdOf,
      autoLogging: { ignore: (req: IncomingMessage) => QUIET_ROUTES.test(req.url ?? '') },
      customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url?.replace(/([?&]d=)[^&]+/, '$1…') }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      redact: ['req.headers.authorization'],
      ...pretty,
    },
  };
}
