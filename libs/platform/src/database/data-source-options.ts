import type { MysqlDataSourceOptions } from 'typeorm/driver/mysql/MysqlDataSourceOptions';
import type { PlatformConfig } from '../config/platform.config';

type DbSettings = Pick<PlatformConfig, 'DB_HOST' | 'DB_PORT' | 'DB_USER' | 'DB_PASSWORD' | 'DB_NAME' | 'DB_POOL_SIZE'>;

/**
 * How every connection to MySQL talks, whether through TypeORM or a raw mysql2 pool (the beacon
 * path's): same server, charset, UTC, and BIGINTs as strings. Defined once so the two cannot drift.
 */
export function mysqlConnection(config: Omit<DbSettings, 'DB_POOL_SIZE'>) {
  return {
    host: config.DB_HOST,
    port: config.DB_PORT,
    user: config.DB_USER,
    password: config.DB_PASSWORD,
    database: config.DB_NAME,
    charset: 'utf8mb4_unicode_ci',
    timezone: 'Z',
    // BIGINT money columns arrive as strings and are converted explicitly; no float rounding.
    supportBigNumbers: true,
    bigNumberStrings: true,
  };
}

/**
 * One definition of the MySQL connection, shared by the apps (TypeOrmModule), the migration CLI
 * (ormconfig.ts) and the migration runner. Schema changes happen through migrations only.
 */
export function mysqlOptions(config: DbSettings): MysqlDataSourceOptions {
  const { user, ...connection } = mysqlConnection(config);
  return {
    type: 'mysql',
    ...connection,
    username: user,
    dateStrings: false,
    synchronize: false,
    migrationsRun: false,
    migrationsTableName: 'schema_migrations',
    poolSize: config.DB_POOL_SIZE,
    connectTimeout: 5000,
    extra: { connectionLimit: config.DB_POOL_SIZE, enableKeepAlive: true, waitForConnections: true, queueLimit: 1000 },
    logging: ['error', 'warn'],
  };
}
