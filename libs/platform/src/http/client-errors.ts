import { BadRequestException, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Duplex } from 'node:stream';
import { uuidv7 } from '../util/uuid';
import { REASONS, replyWithError } from './all-exceptions.filter';

/** What a client may take and send before it has a request: HTTP_* settings of ApiConfig. */
export interface HttpServerLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxHeaderBytes: number;
}

/**
 * Node's `clientError`: the answer to a connection that broke the rules before there was a request to
 * route (headers too large, too slow, unparsable). The uniform error body with a new request id (also
 * in X-Request-Id), never the parser's own words; the connection is closed after it.
 */
type ClientError = Error & { code?: string; rawPacket?: unknown };

export function clientErrorHandler(limits: HttpServerLimits): (err: ClientError, socket: Duplex) => void {
  return (err, socket) => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, message] = describeClientError(err, limits);
    const requestId = uuidv7();
    const body = JSON.stringify({ statusCode: status, error: REASONS[status], message, requestId });
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${status} ${REASONS[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `X-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  };
}

function describeClientError(err: ClientError, limits: HttpServerLimits): [number, string] {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return [HttpStatus.REQUEST_TIMEOUT, `the request did not arrive in time: headers within ${limits.headersTimeoutMs} ms, the whole request within ${limits.requestTimeoutMs} ms`];
  }
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    // The parser's last chunk: when the request line in it (up to its first line break, or all of it)
    // takes more than half of the limit, the URL is what is too long.
    const packet = err.rawPacket;
    const lineEnd = Buffer.isBuffer(packet) ? packet.indexOf('\r\n') : -1;
    if (Buffer.isBuffer(packet) && (lineEnd < 0 ? packet.length : lineEnd) > limits.maxHeaderBytes / 2) return [HttpStatus.URI_TOO_LONG, `URL too long: the request line and headers may take ${limits.maxHeaderBytes} bytes`];
    return [431, `request headers too large: at most ${limits.maxHeaderBytes} bytes with the request line`];
  }
  return [HttpStatus.BAD_REQUEST, 'malformed HTTP request'];
}

const logger = new Logger('HttpError');

/**
 * Fastify's `frameworkErrors`: URLs its router refuses before any hook runs (a path segment past
 * maxParamLength, bad percent-encoding), answered like every other error, with the request id and
 * without echoing the URL back.
 */
export function answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-request-id', request.id);
  let answer: unknown = error;
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') answer = new HttpException('URL too long: a path segment exceeds 100 characters', HttpStatus.URI_TOO_LONG);
  else if (error.code === 'FST_ERR_BAD_URL') answer = new BadRequestException('malformed URL: invalid percent-encoding');
  replyWithError(answer, request, reply, logger);
}
