import { Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces } from '@nestjs/swagger';
import { Auth } from '../auth/auth.decorators';
import { ADMIN_ONLY, ApiController } from '../http/api-controller.decorators';
import { MetricsService } from './metrics.service';

/** /metrics on the API's port, for the admin key only: it shows traffic, routes and queue depths. */
@ApiController('metrics', 'operations', ADMIN_ONLY)
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Auth('admin')
  @Get()
  @ApiOperation({ summary: 'Prometheus metrics (admin key; METRICS_PORT serves them without one)', description: 'HTTP latency by route, decisions and events by outcome, queue depths, SLA states, job wait and run times, process metrics.' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text exposition format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } })
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
