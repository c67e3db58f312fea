import {
  AllExceptionsFilter,
  COMMON_ERROR_RESPONSES,
  ApiConfig,
  HttpServerLimits,
  MetricsService,
  PlayerRoutes,
  answerFrameworkError,
  clientErrorHandler,
  createValidationPipe,
  describeStartupError,
  documentPlayerRoutes,
  jsonBodyLimits,
  loadConfigOrExit,
  playerRoutesServer,
  registerHttpHooks,
  requestIdOf,
  useGuardedBodyParsers,
} from '@app/platform';
import helmet from '@fastify/helmet';
import { documentQueueDashboard, mountQueueDashboard } from '@app/monitoring';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { ApiModule } from './api.module';
import { PlayerRouteTable } from './player-route-table';

const config = loadConfigOrExit(ApiConfig);

async function bootstrap(): Promise<void> {
  // Fastify: its router and serializer keep the decision and beacon paths cheap (see README). One HTTP
  // server: player routes (decisions, VAST, beacons) go to their own lean Fastify instance, the rest to Nest.
  const player: { routes?: PlayerRoutes } = {};
  // Slow or oversized requests are cut off before they reach a route, with the uniform error body.
  const limits: HttpServerLimits = { headersTimeoutMs: config.HTTP_HEADERS_TIMEOUT_MS, requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS, maxHeaderBytes: config.HTTP_MAX_HEADER_BYTES };
  const adapter = new FastifyAdapter({
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: config.trustProxy(),
    genReqId: requestIdOf,
    requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
    clientErrorHandler: clientErrorHandler(limits),
    frameworkErrors: answerFrameworkError,
    serverFactory: playerRoutesServer(() => player.routes, limits),
  });
  // abortOnError false: a failed start reaches the catch below, which says what to do about it.
  const app = await NestFactory.create<NestFastifyApplication>(ApiModule.forRoot(config), adapter, { bufferLogs: true, abortOnError: false });
  player.routes = app.get(PlayerRoutes);
  app.useLogger(app.get(Logger));
  app.flushLogs();

  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'validator.swagger.io'],
        scriptSrc: ["'self'"],
        // Plain-http deployments (localhost, internal networks) must still load /docs assets.
        upgradeInsecureRequests: null,
      },
    },
  });
  await mountQueueDashboard(app);
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new AllExceptionsFilter());
  registerHttpHooks(app.getHttpAdapter().getInstance(), app.get(MetricsService));
  useGuardedBodyParsers(app, config.BODY_LIMIT_BYTES, jsonBodyLimits(config));

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Ad Platform API')
      .setDescription('Campaign management, ad decisioning (JSON and VAST 4.2), tracking, reports, billing and operations.')
      .setVersion('1.0')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'Admin key (ADMIN_API_KEY) or an advertiser API key' })
      .addGlobalResponse(...COMMON_ERROR_RESPONSES)
      .build(),
  );
  // Player routes are not Nest's: they are described from the JSON schemas they validate and answer with.
  documentPlayerRoutes(document, app.get(PlayerRouteTable).routes(), COMMON_ERROR_RESPONSES);
  documentQueueDashboard(document);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });

  app.enableShutdownHooks();
  await app.listen({ port: config.PORT, host: '0.0.0.0' });
  app.get(Logger).log(`API listening on ${await app.getUrl()} (docs at /docs)`, 'Bootstrap');
}

bootstrap().catch((err: Error) => {
  process.stderr.write(`api failed to start: ${describeStartupError(err, config.DB_NAME)}\n`);
  process.exit(1);
});
