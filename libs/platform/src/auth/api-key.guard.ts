import { CanActivate, ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiKeyService, bearerKey } from './api-key.service';
import { AUTH_PUBLIC, AUTH_ROLES, AuthenticatedRequest } from './auth.decorators';
import type { Role } from './principal';

/** Global guard: resolves `Authorization: Bearer <key>` and checks the endpoint's declared roles. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeyService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    const isPublic = this.reflector.getAllAndOverride<boolean>(AUTH_PUBLIC, targets) ?? false;
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(AUTH_ROLES, targets) ?? ['admin'];
    const request = context.switchToHttp().getRequest<AuthenticatedRequest & { headers: Record<string, string | undefined>; ip?: string }>();

    const header = request.headers['authorization'];
    const key = bearerKey(header);
    if (!key) {
      if (isPublic) return true;
      throw new UnauthorizedException(header ? 'Authorization header must be "Bearer <api key>"' : 'missing API key: send Authorization: Bearer <api key>');
    }
    const principal = await this.keys.resolveForRequest(key, request.ip);
    if (!principal) {
      if (isPublic) return true;
      throw new UnauthorizedException('invalid or revoked API key');
    }
    request.principal = principal;
    if (!isPublic && !roles.includes(principal.kind)) throw new ForbiddenException(`this endpoint needs ${roles.map((r) => (/^[aeiou]/.test(r) ? `an ${r}` : `a ${r}`)).join(' or ')} key`);
    return true;
  }
}
