import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { Public } from '../auth/auth.decorators';
import { RedisService } from '../redis/redis.service';

/** Each check by name (mysql, redis): up or down, and why when down. */
const CHECK_RESULTS: { type: 'object'; additionalProperties: SchemaObject } = {
  type: 'object',
  additionalProperties: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['up', 'down'] }, message: { type: 'string' } } },
};

export class LiveDto {
  @ApiProperty({ enum: ['ok'], example: 'ok' })
  status: 'ok';
}

export class ReadyDto {
  @ApiProperty({ enum: ['ok'], example: 'ok' })
  status: 'ok';

  @ApiProperty({ ...CHECK_RESULTS, description: 'Each check by name: mysql, redis', example: { mysql: { status: 'up' }, redis: { status: 'up' } } })
  info: Record<string, { status: string }>;

  @ApiProperty({ ...CHECK_RESULTS, example: {} })
  error: Record<string, { status: string }>;

  @ApiProperty({ ...CHECK_RESULTS, example: { mysql: { status: 'up' }, redis: { status: 'up' } } })
  details: Record<string, { status: string }>;
}

/** The uniform error body, with the checks beside it (the failing ones say why in `message`). */
export class NotReadyDto {
  @ApiProperty({ example: 503 })
  statusCode: number;

  @ApiProperty({ example: 'Service Unavailable' })
  error: string;

  @ApiProperty({ example: 'redis is down (not connected)' })
  message: string;

  @ApiProperty({ enum: ['error', 'shutting_down'], example: 'error' })
  status: string;

  @ApiProperty({ ...CHECK_RESULTS, description: 'The checks that passed', example: { mysql: { status: 'up' } } })
  info: Record<string, { status: string }>;

  @ApiProperty({ ...CHECK_RESULTS, description: 'Every check', example: { mysql: { status: 'up' }, redis: { status: 'down', message: 'not connected' } } })
  details: Record<string, { status: string }>;

  @ApiPropertyOptional({ example: '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f' })
  requestId?: string;
}

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly redis: RedisService,
  ) {}

  @Public()
  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process answers' })
  @ApiOkResponse({ type: LiveDto })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Public()
  @Get('ready')
  @HealthCheck({ swaggerDocumentation: false })
  @ApiOperation({ summary: 'Readiness: MySQL and Redis answer; 503 names the one that is down' })
  @ApiOkResponse({ type: ReadyDto })
  @ApiServiceUnavailableResponse({ type: NotReadyDto })
  ready() {
    return this.health.check([
      () => this.db.pingCheck('mysql', { timeout: 1000 }),
      () =>
        this.indicators
          .check('redis')
          .attempt(() => this.redis.ping(1000))
          .withTimeout(1500),
    ]);
  }
}
