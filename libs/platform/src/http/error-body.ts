import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The uniform error body of every endpoint. */
export class ErrorBody {
  @ApiProperty({ example: 400 })
  statusCode: number;

  @ApiProperty({ example: 'Bad Request' })
  error: string;

  @ApiProperty({ example: 'budgetMicros must be a positive integer' })
  message: string;

  @ApiPropertyOptional({ description: 'Problems by field, when input was invalid', example: [{ field: 'budgetMicros', problems: ['must be a positive integer'] }] })
  details?: Array<{ field: string; problems: string[] }>;

  @ApiPropertyOptional({ description: 'Echoes X-Request-Id, for finding the logs', example: '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f' })
  requestId?: string;
}
