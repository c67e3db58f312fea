/**
 * One line an operator can act on when a process cannot start because of its database, instead of
 * the driver's error object and stack.
 */
export function describeStartupError(err: unknown, database: string | undefined): string {
  const code = (err as { code?: string })?.code;
  const message = (err as Error)?.message ?? String(err);
  if (code === 'ER_BAD_DB_ERROR') {
    return `database "${database}" does not exist: create it and apply the migrations with "node dist/db/migrate.js" (npm start does both), then start again`;
  }
  if (code === 'ER_NO_SUCH_TABLE') {
    return `${message}: the migrations are not applied; run "node dist/db/migrate.js", then start again`;
  }
  return message;
}
