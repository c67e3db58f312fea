import { ApiProperty, ApiPropertyOptional, ApiResponseOptions } from '@nestjs/swagger';

/** One invalid field of a 400 and what is wrong with it. */
export class ErrorDetail {
  @ApiProperty({ description: 'Path of the field in the request', example: 'budgetMicros' })
  field: string;

  @ApiProperty({ type: [String], example: ['must be a positive integer'] })
  problems: string[];
}

/** The uniform error body of every endpoint. */
export class ErrorBody {
  @ApiProperty({ example: 400 })
  statusCode: number;

  @ApiProperty({ example: 'Bad Request' })
  error: string;

  @ApiProperty({ example: 'budgetMicros must be a positive integer' })
  message: string;

  @ApiPropertyOptional({ type: [ErrorDetail], description: 'Problems by field, when input was invalid' })
  details?: ErrorDetail[];

  @ApiPropertyOptional({ description: 'Echoes X-Request-Id, for finding the logs', example: '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f' })
  requestId?: string;
}

/**
 * Answers any route may give, whatever it does, documented on every operation (an operation's own
 * description of a status wins): the HTTP server's limits, the failed-authentication limit (a key is
 * resolved wherever one is sent) and an unreachable MySQL or Redis.
 */
export const COMMON_ERROR_RESPONSES: ApiResponseOptions[] = [
  { status: 400, type: ErrorBody, description: 'Malformed request: URL encoding, JSON body, or a field (named)' },
  { status: 408, type: ErrorBody, description: 'The request did not arrive within HTTP_REQUEST_TIMEOUT_MS' },
  { status: 413, type: ErrorBody, description: 'Body larger than BODY_LIMIT_BYTES' },
  { status: 414, type: ErrorBody, description: 'URL too long' },
  { status: 415, type: ErrorBody, description: 'A body of another type than the route accepts' },
  { status: 429, type: ErrorBody, description: 'Too many failed authentications from this address, or a rate limit; see Retry-After' },
  { status: 431, type: ErrorBody, description: 'Request line and headers larger than HTTP_MAX_HEADER_BYTES' },
  { status: 503, type: ErrorBody, description: 'MySQL or Redis unavailable: nothing was done, retry later' },
];
