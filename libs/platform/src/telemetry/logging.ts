import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import { uuidv7 } from '../util/uuid';

/** Not logged per request: probes and scrapes. */
const QUIET_ROUTES = /^\/(health|metrics)(\/|$|\?)/;

/**
 * Player traffic gets no per-request logger at all: decisions and beacons are the busiest routes by
 * orders of magnitude, a child logger per request was a good part of their allocations (and so of
 * their GC pauses), and their record is elsewhere: the delivery and measurement metrics, and every
 * beacon's row in raw_events. Their errors are still logged by AllExceptionsFilter.
 */
export const PLAYER_ROUTES = [
  { method: RequestMethod.ALL, path: 't/*path' },
  { method: RequestMethod.POST, path: 'v1/decisions' },
  { method: RequestMethod.GET, path: 'v1/vast' },
  { method: RequestMethod.POST, path: 'v1/events' },
];

/** Structured JSON logs, one line per request, each with the request id (from X-Request-Id or new). */
export function loggerParams(level: string): Params {
  return {
    exclude: PLAYER_ROUTES,
    pinoHttp: {
      level,
      // The HTTP adapter has already settled the id and written it into the header.
      genReqId: (req: IncomingMessage) => (req.headers['x-request-id'] as string | undefined) ?? uuidv7(),
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
