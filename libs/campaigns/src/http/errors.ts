import { ConflictException, NotFoundException, PreconditionFailedException } from '@nestjs/common';
import { UUID_PATTERN } from '@app/platform';

/** Missing, malformed and other tenants' ids all answer the same 404. */
export function notFound(kind: string, id: string): NotFoundException {
  return new NotFoundException(`${kind} ${id} not found`);
}

export function isId(value: string): boolean {
  return UUID_PATTERN.test(value);
}

/** 409 with every unmet condition, e.g. `cannot activate: no approved creative assigned`. */
export function cannotActivate(reasons: string[]): ConflictException {
  return new ConflictException({ message: `cannot activate: ${reasons.join('; ')}`, reasons });
}

export function staleVersion(kind: string, id: string, version: number): ConflictException {
  return new ConflictException(`${kind} ${id} was changed concurrently (version ${version} is no longer current); reload it and retry`);
}

/**
 * Checks an `If-Match` header (`W/"3"`, `"3"`, `3` or `*`) against the current version; absent means
 * no precondition. The write itself is still guarded by `WHERE version = ?`.
 */
export function checkIfMatch(header: string | undefined, kind: string, id: string, current: number): void {
  if (header === undefined || header.trim() === '' || header.trim() === '*') return;
  const versions = header.split(',').map((tag) => /^\s*(?:W\/)?"?(\d+)"?\s*$/.exec(tag)?.[1]);
  if (versions.some((v) => v === undefined)) throw new PreconditionFailedException(`If-Match must be the ETag of ${kind} ${id}, e.g. W/"${current}"`);
  if (!versions.includes(String(current))) {
    throw new PreconditionFailedException(`${kind} ${id} is at version ${current}, not ${versions.join(' or ')}; reload it and retry`);
  }
}
