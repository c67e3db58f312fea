import { CallHandler, ConflictException, ExecutionContext, HttpStatus, Injectable, NestInterceptor, UnprocessableEntityException, UseInterceptors, applyDecorators } from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { ApiConflictResponse, ApiHeader, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { Observable, catchError, from, mergeMap, of } from 'rxjs';
import type { AuthenticatedRequest } from '../auth/auth.decorators';
import { ErrorBody } from '../http/error-body';
import { invalidField } from '../http/validation';
import { IdempotencyStore } from './idempotency.store';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const REPLAYED_HEADER = 'Idempotent-Replayed';
const MAX_KEY_LENGTH = 255;

/** JSON with object keys sorted, so that the same body hashes the same whatever its key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * `Idempotency-Key` on a POST that creates a record or moves money: the first request with a key runs
 * and its answer (2xx) is stored per caller; a retry with the same key and request gets that answer
 * again with `Idempotent-Replayed: true`; the same key with another request (method, path or body)
 * gets 422; a retry while the first still runs gets 409. A request that fails stores nothing, so it
 * can be retried. Runs after the guard (the caller is known) and before validation.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(private readonly store: IdempotencyStore) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest & AuthenticatedRequest>();
    const header = request.headers[IDEMPOTENCY_HEADER];
    if (header === undefined) return next.handle();
    const key = Array.isArray(header) ? null : header;
    if (key === null || key.length === 0 || key.length > MAX_KEY_LENGTH || /[^\x20-\x7e]/.test(key)) {
      throw invalidField('Idempotency-Key', `must be one header of 1 to ${MAX_KEY_LENGTH} printable ASCII characters`);
    }
    const caller = request.principal?.keyId ?? 'anonymous';
    const sha = createHash('sha256').update(`${request.method} ${request.url}\n${canonical(request.body ?? null)}`).digest('hex');
    const claim = await this.store.claim(caller, key, sha);
    if (claim.kind === 'mismatch') throw new UnprocessableEntityException(`Idempotency-Key ${JSON.stringify(key)} was already used with another request; use a new key`);
    if (claim.kind === 'running') throw new ConflictException(`a request with Idempotency-Key ${JSON.stringify(key)} is still running; retry later for its answer`);
    const reply = http.getResponse<FastifyReply>();
    if (claim.kind === 'replay') {
      reply.header(REPLAYED_HEADER, 'true');
      return of(claim.body);
    }
    const statusCode = (Reflect.getMetadata(HTTP_CODE_METADATA, context.getHandler()) as number | undefined) ?? HttpStatus.CREATED;
    return next.handle().pipe(
      mergeMap((body) => from(this.store.complete(caller, key, statusCode, body).then(() => body))),
      catchError((err: unknown) => from(this.store.release(caller, key).then(() => Promise.reject(err as Error)))),
    );
  }
}

/** Accepts `Idempotency-Key` on this POST (documented in the OpenAPI description). */
export function Idempotent(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    UseInterceptors(IdempotencyInterceptor),
    ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Up to 255 characters; a retry with the same key and body gets the first answer again (Idempotent-Replayed: true), kept at least 24 h' }),
    ApiUnprocessableEntityResponse({ type: ErrorBody, description: 'The Idempotency-Key was used with another request' }),
    ApiConflictResponse({ type: ErrorBody, description: 'A request with this Idempotency-Key is still running' }),
  );
}
