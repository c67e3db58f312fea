import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
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

/** Structured JSON logs, one line per request, each with the request id (from X-Request-Id or new). */
export function loggerParams(level: string): Params {
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
    },
  };
}
