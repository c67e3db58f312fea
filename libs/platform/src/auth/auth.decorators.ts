import { ExecutionContext, SetMetadata, createParamDecorator } from '@nestjs/common';
import type { Principal, Role } from './principal';

export const AUTH_ROLES = 'platform:auth-roles';
export const AUTH_PUBLIC = 'platform:auth-public';

/**
 * Declares who may call an endpoint. Endpoints that declare nothing are admin-only (fail closed).
 * `@Auth('admin', 'advertiser')` lets advertiser keys in; their scope is enforced by the service.
 */
export const Auth = (...roles: Role[]) => SetMetadata(AUTH_ROLES, roles);

/** No key needed (beacons, decisions, health). A key, when sent, is still resolved. */
export const Public = () => SetMetadata(AUTH_PUBLIC, true);

export interface AuthenticatedRequest {
  principal?: Principal;
}

/** The caller resolved by ApiKeyGuard; undefined on a public endpoint called without a key. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal | undefined => {
  return ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
});
