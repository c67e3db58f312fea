import { BadRequestException, CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Observable } from 'rxjs';

/**
 * navigator.sendBeacon posts strings as text/plain (a JSON content type would need a CORS preflight),
 * so a text body is parsed as JSON here, before the validation pipe sees it.
 */
@Injectable()
export class TextJsonBodyInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<{ body?: unknown }>();
    if (typeof request.body === 'string') {
      try {
        request.body = JSON.parse(request.body) as unknown;
      } catch {
        throw new BadRequestException('body must be JSON (sent as application/json or text/plain)');
      }
    }
    return next.handle();
  }
}
