import { createValidationPipe } from '@app/platform';
import { ExecutionContext, Injectable, PipeTransform, createParamDecorator } from '@nestjs/common';
import { DecisionRequestDto } from '../dto/decision-request.dto';
import { isCertainlyValidDecisionRequest } from '../dto/decision-request.hand-written-validator';

const strictPipe = createValidationPipe();

/**
 * Validates a decision request: the common, certainly valid body passes the fast check; anything else
 * goes through the same class-validator pipe as every other endpoint (same 400 messages). A custom
 * parameter decorator, so the global pipe does not validate the body a second time.
 */
@Injectable()
export class DecisionBodyPipe implements PipeTransform<unknown, Promise<DecisionRequestDto>> {
  async transform(value: unknown): Promise<DecisionRequestDto> {
    if (isCertainlyValidDecisionRequest(value)) return value as DecisionRequestDto;
    return (await strictPipe.transform(value, { type: 'body', metatype: DecisionRequestDto })) as DecisionRequestDto;
  }
}

export const DecisionBody = createParamDecorator((_: unknown, ctx: ExecutionContext) => ctx.switchToHttp().getRequest<{ body: unknown }>().body);
