import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import { uuidv7 } from '../util/uuid';

/** Not logged per request: probes, scrapes and tracking beacons (whose record is the raw_events table). */
const QUIET_ROUTES = /^\/(health|metrics|t)(\/|$|\?)/;

/** Structured JSON logs, one line per request, each with the request id (from X-Request-Id or new). */
export function loggerParams(level: string): Params {
  return {
    // Beacons get no per-request logger at all: the busiest route, and their record is raw_events.
    exclude: [{ method: RequestMethod.ALL, path: 't/*path' }],
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
