import { WorkerConfig, loadConfig, mysqlOptions } from '@app/platform';
import { Connection, createConnection } from 'mysql2/promise';
import { DataSource, DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../db/migrations';

/**
 * A MariaDB database of an integration spec's own, migrated as `npm start` does: `open()` in beforeAll,
 * `drop()` in afterAll. Pass the entities that the repositories under test read through the ORM.
 */
export class MigratedDatabase {
  readonly config: WorkerConfig;
  dataSource!: DataSource;

  constructor(
    name: string,
    private readonly connections = 2,
    private readonly entities: NonNullable<DataSourceOptions['entities']> = [],
  ) {
    this.config = loadConfig(WorkerConfig, { ...process.env, DB_NAME: name });
  }

  /** A connection to the server, outside any pool. */
  server(): Promise<Connection> {
    return createConnection({ host: this.config.DB_HOST, port: this.config.DB_PORT, user: this.config.DB_USER, password: this.config.DB_PASSWORD });
  }

  async open(): Promise<DataSource> {
    const conn = await this.server();
    await conn.query(`CREATE DATABASE IF NOT EXISTS \`${this.config.DB_NAME}\``);
    await conn.end();
    this.dataSource = new DataSource({ ...mysqlOptions(this.config), poolSize: this.connections, extra: { connectionLimit: this.connections }, entities: this.entities, migrations: [...MIGRATIONS] });
    await this.dataSource.initialize();
    await this.dataSource.runMigrations();
    return this.dataSource;
  }

  async drop(): Promise<void> {
    await this.dataSource?.destroy();
    const conn = await this.server();
    await conn.query(`DROP DATABASE IF EXISTS \`${this.config.DB_NAME}\``);
    await conn.end();
  }
}
