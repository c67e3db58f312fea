import { WorkerConfig, describeStartupError, loadConfigOrExit } from '@app/platform';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { WorkerModule } from './worker.module';

const config = loadConfigOrExit(WorkerConfig);

async function bootstrap(): Promise<void> {
  // abortOnError false: a failed start reaches the catch below, which says what to do about it.
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), { bufferLogs: true, abortOnError: false });
  const logger = app.get(Logger);
  app.useLogger(logger);
  app.flushLogs();
  logger.log(`worker ${process.pid} consuming (concurrency ${config.WORKER_CONCURRENCY} per queue, prefix "${config.QUEUE_PREFIX}")`, 'Bootstrap');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal}: no new jobs; waiting up to ${config.SHUTDOWN_TIMEOUT_MS} ms for active ones`, 'Bootstrap');
    // Jobs still running at the deadline are released as stalled and picked up by another worker.
    setTimeout(() => {
      logger.warn('shutdown deadline reached with jobs still active; exiting', 'Bootstrap');
      process.exit(0);
    }, config.SHUTDOWN_TIMEOUT_MS).unref();
    app
      .close()
      .then(() => process.exit(0))
      .catch((err: Error) => {
        logger.error(`shutdown failed: ${err.message}`, 'Bootstrap');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

bootstrap().catch((err: Error) => {
  process.stderr.write(`worker failed to start: ${describeStartupError(err, config.DB_NAME)}\n`);
  process.exit(1);
});
