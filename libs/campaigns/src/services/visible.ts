import { notFound } from '../http/errors';

/**
 * A row a repository found within the caller's scope, or 404: missing, malformed and other tenants'
 * ids all answer the same (findOwned returns null for all three).
 */
export async function findVisible<E>(kind: string, id: string, found: Promise<E | null>): Promise<E> {
  const row = await found;
  if (!row) throw notFound(kind, id);
  return row;
}
