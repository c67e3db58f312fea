import { PlatformConfig, loadConfig, mysqlOptions } from '@app/platform';
import { DataSource } from 'typeorm';
import { ENTITIES } from './db/entities';
import { MIGRATIONS } from './db/migrations';

/** The DataSource of the TypeORM CLI: `npm run migration:generate|run|revert`. */
export default new DataSource({
  ...mysqlOptions(loadConfig(PlatformConfig)),
  entities: ENTITIES,
  migrations: MIGRATIONS,
});
