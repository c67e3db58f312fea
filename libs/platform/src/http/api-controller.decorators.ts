import { Controller, Get, Type, applyDecorators } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ErrorBody } from './error-body';

/** 403 as the admin-only controllers document it. */
export const ADMIN_ONLY = 'An advertiser key on an admin-only endpoint';

/**
 * A controller of the authenticated API at `path`: its OpenAPI tag, bearer auth and 401; and 403,
 * described by `forbidden`, where some of its routes refuse some keys.
 */
export function ApiController(path: string, tag: string, forbidden?: string): ClassDecorator {
  return applyDecorators(
    ApiTags(tag),
    ApiBearerAuth(),
    ApiUnauthorizedResponse({ type: ErrorBody }),
    ...(forbidden ? [ApiForbiddenResponse({ type: ErrorBody, description: forbidden })] : []),
    Controller(path),
  );
}

/** `GET` of a page of a resource (at the controller's path, or `path` below it); 400 for bad filters. */
export function ListEndpoint(summary: string, page: Type, path?: string): MethodDecorator {
  return applyDecorators(Get(path), ApiOperation({ summary }), ApiOkResponse({ type: page }), ApiBadRequestResponse({ type: ErrorBody }));
}
