import { PlatformConfig, loadConfigOrExit, mysqlOptions } from '@app/platform';
import { createConnection } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from './migrations';

/**
 * Creates the database if it is missing and applies pending migrations. Used by `npm start`, the
 * test setup and deployments (`node dist/db/migrate.js`); `--revert` undoes the last one.
 */
export async function migrate(config: PlatformConfig, revert = false): Promise<string[]> {
  const admin = await createConnection({ host: config.DB_HOST, port: config.DB_PORT, user: config.DB_USER, password: config.DB_PASSWORD });
  await admin.query(`CREATE DATABASE IF NOT EXISTS \`${config.DB_NAME}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  const dataSource = new DataSource({ ...mysqlOptions(config), poolSize: 2, extra: { connectionLimit: 2 }, migrations: MIGRATIONS });
  await dataSource.initialize();
  try {
    if (revert) {
      await dataSource.undoLastMigration({ transaction: 'each' });
      return ['reverted last migration'];
    }
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await dataSource.destroy();
  }
}

if (require.main === module) {
  const config = loadConfigOrExit(PlatformConfig);
  migrate(config, process.argv.includes('--revert'))
    .then((applied) => {
      process.stdout.write(applied.length ? `migrations applied to ${config.DB_NAME}: ${applied.join(', ')}\n` : `database ${config.DB_NAME} is up to date\n`);
    })
    .catch((err: Error) => {
      process.stderr.write(`migration failed: ${err.message}\n`);
      process.exit(1);
    });
}
