import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PlatformConfig } from '../config/platform.config';

/** A request still running this long is presumed dead (its process crashed) and may be taken over, ms. */
export const IDEMPOTENCY_STALE_MS = 10 * 60_000;
/** Rows deleted per statement when pruning. */
const PRUNE_CHUNK = 5000;

export type IdempotencyClaim =
  | { kind: 'new' }
  | { kind: 'replay'; statusCode: number; body: unknown }
  | { kind: 'mismatch' }
  | { kind: 'running' };

/**
 * Stored Idempotency-Key answers, per caller (API key id) and key, in MySQL: the primary key decides
 * which of two concurrent requests runs; the other gets 409 while it runs and its answer after.
 */
@Injectable()
export class IdempotencyStore {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: PlatformConfig,
  ) {}

  async claim(caller: string, key: string, requestSha256: string): Promise<IdempotencyClaim> {
    const ttl = this.config.IDEMPOTENCY_TTL_HOURS;
    const inserted = (await this.dataSource.query(
      `INSERT IGNORE INTO idempotency_keys (caller, idempotency_key, request_sha256, state, started_at, expires_at)
       VALUES (?, ?, ?, 'running', NOW(3), NOW(3) + INTERVAL ? HOUR)`,
      [caller, key, requestSha256, ttl],
    )) as { affectedRows: number };
    if (inserted.affectedRows === 1) return { kind: 'new' };
    const [row] = (await this.dataSource.query(
      `SELECT request_sha256, state, status_code, response_body, started_at, expires_at < NOW(3) AS expired,
         started_at < NOW(3) - INTERVAL ? SECOND AS stale FROM idempotency_keys WHERE caller = ? AND idempotency_key = ?`,
      [IDEMPOTENCY_STALE_MS / 1000, caller, key],
    )) as Array<{ request_sha256: string; state: 'running' | 'done'; status_code: number | null; response_body: string | null; started_at: Date; expired: number | string; stale: number | string }>;
    if (!row) return this.claim(caller, key, requestSha256);
    // Expired (not yet pruned), or abandoned by a crashed process: taken over by whoever updates it first.
    if (Number(row.expired) === 1 || (row.state === 'running' && Number(row.stale) === 1)) {
      const taken = (await this.dataSource.query(
        `UPDATE idempotency_keys SET request_sha256 = ?, state = 'running', status_code = NULL, response_body = NULL, started_at = NOW(3), expires_at = NOW(3) + INTERVAL ? HOUR
         WHERE caller = ? AND idempotency_key = ? AND started_at = ?`,
        [requestSha256, ttl, caller, key, row.started_at],
      )) as { affectedRows: number };
      return taken.affectedRows === 1 ? { kind: 'new' } : { kind: 'running' };
    }
    if (row.request_sha256 !== requestSha256) return { kind: 'mismatch' };
    if (row.state === 'running') return { kind: 'running' };
    return { kind: 'replay', statusCode: Number(row.status_code), body: row.response_body === null ? undefined : (JSON.parse(row.response_body) as unknown) };
  }

  async complete(caller: string, key: string, statusCode: number, body: unknown): Promise<void> {
    await this.dataSource.query("UPDATE idempotency_keys SET state = 'done', status_code = ?, response_body = ? WHERE caller = ? AND idempotency_key = ?", [
      statusCode,
      body === undefined ? null : JSON.stringify(body),
      caller,
      key,
    ]);
  }

  /** A failed request leaves nothing behind: the same key may be retried, with any body. */
  async release(caller: string, key: string): Promise<void> {
    await this.dataSource.query("DELETE FROM idempotency_keys WHERE caller = ? AND idempotency_key = ? AND state = 'running'", [caller, key]);
  }

  /** Deletes expired keys, a chunk per statement. */
  async prune(): Promise<{ deleted: number }> {
    let deleted = 0;
    for (;;) {
      const result = (await this.dataSource.query('DELETE FROM idempotency_keys WHERE expires_at < NOW(3) LIMIT ?', [PRUNE_CHUNK])) as { affectedRows: number };
      deleted += result.affectedRows;
      if (result.affectedRows < PRUNE_CHUNK) return { deleted };
    }
  }
}
