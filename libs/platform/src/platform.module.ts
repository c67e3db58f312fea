import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Global, Module, Provider, Type } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import { ApiKeyEntity } from './auth/api-key.entity';
import { ApiKeyService } from './auth/api-key.service';
import { AuthFailureLimiter } from './auth/auth-failure-limiter';
import { PlatformConfig } from './config/platform.config';
import { mysqlOptions } from './database/data-source-options';
import { HealthController } from './health/health.controller';
import { JobQueue } from './queue/job-queue.service';
import { ALL_QUEUES } from './queue/jobs';
import { RedisService } from './redis/redis.service';
import { QUEUE_CLUSTER_CONNECTION, QueueClusterCloser, createQueueCluster, queueConnection, queuePrefix } from './queue/queue-connection';
import { logFormatOf, loggerParams } from './telemetry/logging';
import { PlayerRoutes } from './http/player-routes';
import { IdempotencyInterceptor } from './idempotency/idempotency.interceptor';
import { IdempotencyStore } from './idempotency/idempotency.store';
import { MetricsController } from './telemetry/metrics.controller';
import { MetricsServer } from './telemetry/metrics-server.service';
import { MetricsService } from './telemetry/metrics.service';
import { QueueMetricsService } from './telemetry/queue-metrics.service';
import { JobStatsService } from './telemetry/job-stats.service';
import { JobObserver } from './queue/job-observer.service';

export interface PlatformModuleOptions {
  /** The app's validated config instance (ApiConfig or WorkerConfig). */
  config: PlatformConfig;
  /** The API process: mount /health and /metrics (admin key, or METRICS_PORT), provide API keys and PlayerRoutes (their config is ApiConfig). */
  http?: boolean;
}

/**
 * Infrastructure shared by both processes: config, MySQL, Redis, the queue registry, API keys,
 * logs and metrics. Global, so libs inject these without importing it again.
 */
@Global()
@Module({})
export class PlatformModule {
  static forRoot({ config, http = false }: PlatformModuleOptions): DynamicModule {
    const configProviders: Provider[] = [
      { provide: PlatformConfig, useValue: config },
      { provide: config.constructor as Type<PlatformConfig>, useValue: config },
    ];
    const cluster = createQueueCluster(config);
    const connection = queueConnection(config, cluster);
    return {
      module: PlatformModule,
      imports: [
        DiscoveryModule,
        LoggerModule.forRoot(loggerParams(config.LOG_LEVEL, logFormatOf(config))),
        TypeOrmModule.forRoot({ ...mysqlOptions(config), autoLoadEntities: true, retryAttempts: 3, retryDelay: 1000 }),
        TypeOrmModule.forFeature([ApiKeyEntity]),
        BullModule.forRoot({ connection, prefix: config.QUEUE_PREFIX }),
        BullModule.registerQueue(...ALL_QUEUES.map((name) => ({ name, connection, prefix: queuePrefix(config, name) }))),
        ...(http ? [TerminusModule.forRoot({ errorLogStyle: 'json', logger: false })] : []),
      ],
      controllers: http ? [HealthController, MetricsController] : [],
      providers: [
        ...configProviders,
        RedisService,
        { provide: QUEUE_CLUSTER_CONNECTION, useValue: cluster },
        QueueClusterCloser,
        JobQueue,
        JobStatsService,
        JobObserver,
        MetricsService,
        ...(http ? [QueueMetricsService] : []),
        IdempotencyStore,
        IdempotencyInterceptor,
        ...(http ? [AuthFailureLimiter, ApiKeyService, PlayerRoutes, MetricsServer] : []),
      ],
      exports: [
        ...configProviders,
        RedisService,
        JobQueue,
        JobStatsService,
        JobObserver,
        MetricsService,
        IdempotencyStore,
        IdempotencyInterceptor,
        TypeOrmModule,
        BullModule,
        DiscoveryModule,
        ...(http ? [ApiKeyService, PlayerRoutes] : []),
      ],
    };
  }
}
