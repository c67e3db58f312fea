import { ErrorBody } from '@app/platform';
import { Get, HttpCode, Patch, Post, Type, applyDecorators } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPreconditionFailedResponse,
} from '@nestjs/swagger';
import { IF_MATCH_HEADER } from './if-match';

/** `GET /:id`: one resource; 404 when missing or another tenant's. */
export function ReadEndpoint(resource: Type, summary?: string): MethodDecorator {
  return applyDecorators(Get(':id'), ...(summary ? [ApiOperation({ summary })] : []), ApiOkResponse({ type: resource }), ApiNotFoundResponse({ type: ErrorBody }));
}

/** `PATCH /:id` with optional If-Match: 400 invalid, 404 unknown, 409 conflicting, 412 stale. */
export function UpdateEndpoint(summary: string, resource: Type, conflict?: string): MethodDecorator {
  return applyDecorators(
    Patch(':id'),
    ApiOperation({ summary }),
    ApiHeader(IF_MATCH_HEADER),
    ApiOkResponse({ type: resource }),
    ApiBadRequestResponse({ type: ErrorBody }),
    ApiNotFoundResponse({ type: ErrorBody }),
    ApiConflictResponse({ type: ErrorBody, ...(conflict ? { description: conflict } : {}) }),
    ApiPreconditionFailedResponse({ type: ErrorBody }),
  );
}

/**
 * `POST /:id/<action>`: a checked status change answering the resource (200), with If-Match, 404 for
 * another tenant's, and 409 when the transition is not allowed (`conflict` documents its body).
 */
export function StatusChange(action: string, summary: string, resource: Type, conflict: Type | null = ErrorBody): MethodDecorator {
  return applyDecorators(
    Post(`:id/${action}`),
    HttpCode(200),
    ApiOperation({ summary }),
    ApiHeader(IF_MATCH_HEADER),
    ApiOkResponse({ type: resource }),
    ApiNotFoundResponse({ type: ErrorBody }),
    ...(conflict ? [ApiConflictResponse({ type: conflict })] : []),
  );
}
