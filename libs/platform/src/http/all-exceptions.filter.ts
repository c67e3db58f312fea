import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import type { ErrorBody } from './error-body';

export const REASONS: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  406: 'Not Acceptable', 408: 'Request Timeout', 409: 'Conflict', 412: 'Precondition Failed', 413: 'Payload Too Large', 414: 'URI Too Long',
  415: 'Unsupported Media Type', 422: 'Unprocessable Entity', 428: 'Precondition Required', 429: 'Too Many Requests',
  431: 'Request Header Fields Too Large', 500: 'Internal Server Error', 503: 'Service Unavailable',
};

/** Errors raised by mysql2 when the server cannot be reached: answered 503, not 500. */
const DB_DOWN_CODES = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'PROTOCOL_CONNECTION_LOST', 'ER_CON_COUNT_ERROR', 'EHOSTUNREACH', 'ENOTFOUND', 'ECONNRESET', 'POOL_CLOSED']);

export function isDatabaseUnavailable(err: unknown): boolean {
  const code = (err as { code?: string; driverError?: { code?: string } })?.code ?? (err as { driverError?: { code?: string } })?.driverError?.code;
  return !!code && DB_DOWN_CODES.has(code);
}

/**
 * Turns every error into `{statusCode, error, message}` (plus `details` and `requestId`), never a
 * stack trace. Unknown errors are logged and answered 500; an unreachable database answers 503.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpError');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    replyWithError(exception, ctx.getRequest<ErrorRequest>(), ctx.getResponse<ErrorReply>(), this.logger);
  }
}

interface ErrorRequest {
  id?: unknown;
  method?: string;
  url?: string;
}

interface ErrorReplyHeaders {
  header(k: string, v: string): ErrorReplyHeaders;
  send(b: unknown): unknown;
}

interface ErrorReply {
  status(code: number): ErrorReplyHeaders;
  sent?: boolean;
}

/** A 429 that says, in Retry-After, how many seconds to wait. */
export class TooManyRequestsError extends HttpException {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message, HttpStatus.TOO_MANY_REQUESTS);
  }
}

/** Answers an error with the uniform body, logging the unexpected ones; every HTTP path of the API uses it. */
export function replyWithError(exception: unknown, request: ErrorRequest | undefined, reply: ErrorReply, logger: Logger): void {
  const body = toErrorBody(exception);
  body.requestId = request?.id === undefined ? undefined : String(request.id);
  if (body.statusCode >= 500 && body.statusCode !== 503) {
    logger.error({ err: exception, method: request?.method, url: request?.url }, (exception as Error)?.message ?? String(exception));
  }
  if (reply.sent) return;
  const answer = reply.status(body.statusCode).header('content-type', 'application/json; charset=utf-8');
  const retryAfter = (exception as { retryAfterSeconds?: unknown })?.retryAfterSeconds;
  if (typeof retryAfter === 'number') answer.header('retry-after', String(retryAfter));
  answer.send(body);
}

/** The uniform error body for any error (without requestId); shared by every HTTP path of the API. */
export function toErrorBody(exception: unknown): ErrorBody {
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    const base: ErrorBody = { statusCode: status, error: REASONS[status] ?? 'Error', message: exception.message };
    if (typeof response === 'string') return { ...base, message: response };
    const r = response as Record<string, unknown>;
    const message = Array.isArray(r.message) ? r.message.join('; ') : typeof r.message === 'string' ? r.message : undefined;
    // Health checks (terminus) answer with their own details; keep them beside the uniform fields.
    const extra: Record<string, unknown> = { ...r };
    delete extra.statusCode;
    delete extra.message;
    delete extra.error;
    return { ...base, message: message ?? describeHealth(r) ?? exception.message, ...extra };
  }
  const fastifyStatus = (exception as { statusCode?: number })?.statusCode;
  if (typeof fastifyStatus === 'number' && fastifyStatus >= 400 && fastifyStatus < 500) {
    // Errors raised by Fastify itself before Nest sees the request (body too large, bad JSON).
    return { statusCode: fastifyStatus, error: REASONS[fastifyStatus] ?? 'Error', message: (exception as Error).message };
  }
  if (isDatabaseUnavailable(exception)) {
    return { statusCode: HttpStatus.SERVICE_UNAVAILABLE, error: REASONS[503], message: 'database unavailable, try again shortly' };
  }
  if (exception instanceof QueryFailedError && (exception.driverError as { code?: string })?.code === 'ER_LOCK_DEADLOCK') {
    return { statusCode: HttpStatus.CONFLICT, error: REASONS[409], message: 'concurrent update, retry the request' };
  }
  return { statusCode: 500, error: REASONS[500], message: 'internal error' };
}

function describeHealth(r: Record<string, unknown>): string | undefined {
  const error = r.error as Record<string, { message?: string }> | undefined;
  if (!error || typeof error !== 'object') return undefined;
  const down = Object.entries(error).map(([name, info]) => `${name} is down${info?.message ? ` (${info.message})` : ''}`);
  return down.length ? down.join('; ') : undefined;
}
