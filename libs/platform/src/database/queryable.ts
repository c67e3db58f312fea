/** Anything that runs SQL with `?` parameters: a TypeORM DataSource, EntityManager or QueryRunner. */
export interface Queryable {
  query<T = unknown>(sql: string, parameters?: unknown[]): Promise<T>;
}
