import { ErrorBody } from '@app/platform';
import { HttpCode, Post, Type, applyDecorators } from '@nestjs/common';
import { ApiConflictResponse, ApiHeader, ApiNotFoundResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { IF_MATCH_HEADER } from './if-match';

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
