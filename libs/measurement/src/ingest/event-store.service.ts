import { ApiConfig, mysqlConnection } from '@app/platform';
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { randomInt } from 'node:crypto';
import { createPool, Pool, PoolConnection } from 'mysql2/promise';
import type { InvalidReason } from '../events/event-types';
import { NewRawEvent, RawEventRepository } from '../repositories/raw-event.repository';
import { eventDay, isoDay } from '../retention/day-partitions';
import type { ClassifiedEvent } from './ivt-classifier';
import { RejectedBeacon, rejectedRows } from './rejected-rows';
import type { StoredPrerequisites } from './sequence-rules';

/** Longest a batch may take, from taking a connection to COMMIT, before its callers get a 503. */
export const STORE_DEADLINE_MS = 1800;
const RETRYABLE = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);

export class EventStoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`event store unavailable (MySQL): ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'EventStoreUnavailableError';
  }
}

/** A beacon ready to be written: classified, with its final invalid reason if any. */
export interface StorableEvent extends ClassifiedEvent {
  finalReason?: InvalidReason;
}

export type StoreOutcome = 'stored' | 'duplicate';

/**
 * Hooks the batch runs inside its transaction, between the fence lock and the insert: the decisions
 * whose stored impression/start must be looked up, then the classification that sets `finalReason`.
 */
export interface BatchHooks {
  classify(events: StorableEvent[], stored: StoredPrerequisites): Promise<void>;
  decisionsToLookUp(events: StorableEvent[]): string[];
}

/**
 * The write side of ingestion: one mysql2 pool of its own (not the ORM's), so the beacon path has
 * short connect timeouts, no ORM layer, READ COMMITTED sessions and exact affected-row counts, and a
 * flood of report queries can never take its connections.
 */
@Injectable()
export class EventStore implements OnApplicationShutdown {
  private readonly logger = new Logger(EventStore.name);
  private readonly pool: Pool;
  private readonly samplesPerHour: number;
  private readonly retentionDays: number;
  /** `YYYY-MM-DD` per day number: a batch's events share one or two days, formatted once each. */
  private readonly dayText = new Map<number, string>();

  constructor(
    config: ApiConfig,
    private readonly rawEvents: RawEventRepository,
  ) {
    this.samplesPerHour = config.REJECTED_SAMPLES_PER_HOUR;
    this.retentionDays = config.RAW_EVENTS_RETENTION_DAYS;
    this.pool = createPool({
      ...mysqlConnection(config),
      connectionLimit: Math.max(2, Math.min(12, config.DB_POOL_SIZE)),
      connectTimeout: 1500,
      enableKeepAlive: true,
      waitForConnections: true,
      // Without FOUND_ROWS, an ON DUPLICATE KEY no-op counts 0 affected rows: duplicates are countable.
      flags: ['-FOUND_ROWS'],
      // A batch is two round trips; every value still goes through placeholders.
      multipleStatements: true,
      // No caller stack captured per query (mysql2's default): a failed batch is reported by its MySQL
      // error and the caller's own context, and the capture cost every beacon ~1% of its CPU.
      trace: false,
    });
    this.pool.on('connection', (connection) => {
      // The event hands over the underlying callback-style connection, whatever the typings say.
      const conn = connection as unknown as { query(sql: string, done: (err: Error | null) => void): void };
      const failed = (err: Error | null) => {
        if (err) this.logger.warn(`session setup failed: ${err.message}`);
      };
      // READ COMMITTED: the duplicate lookup after the insert must see rows committed by others meanwhile.
      conn.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED', failed);
      conn.query("SET time_zone = '+00:00'", failed);
    });
  }

  /**
   * Writes one group-commit batch in one transaction and says, per event, whether it was stored or
   * was a duplicate (rejected beacons are always counted, and sampled: see rejectedRows). Resolves only after COMMIT.
   */
  async writeBatch(events: StorableEvent[], hooks: BatchHooks): Promise<StoreOutcome[]> {
    let attempt = 0;
    const deadline = Date.now() + STORE_DEADLINE_MS;
    for (;;) {
      try {
        return await this.withDeadline(deadline, (conn) => this.transaction(conn, events, hooks));
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code && RETRYABLE.has(code) && ++attempt < 3 && Date.now() < deadline) {
          this.logger.warn(`ingest batch retried after ${code}`);
          continue;
        }
        throw err instanceof EventStoreUnavailableError ? err : new EventStoreUnavailableError(err);
      }
    }
  }

  private async withDeadline<T>(deadline: number, work: (conn: PoolConnection) => Promise<T>): Promise<T> {
    let conn: PoolConnection | undefined;
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        // Whatever the connection was doing is abandoned; MySQL rolls back an uncommitted transaction.
        conn?.destroy();
        reject(new Error(`no commit within ${STORE_DEADLINE_MS} ms`));
      }, Math.max(1, deadline - Date.now()));
    });
    const run = (async () => {
      conn = await this.pool.getConnection();
      if (timedOut) {
        conn.destroy();
        throw new Error('timed out');
      }
      try {
        return await work(conn);
      } catch (err) {
        await conn.query('ROLLBACK').catch(() => conn?.destroy());
        throw err;
      } finally {
        if (!timedOut) conn.release();
      }
    })();
    run.catch(() => undefined);
    try {
      return await Promise.race([run, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Two round trips in the common case: [BEGIN; fence share lock; prerequisite lookup] and
   * [INSERT raw events; count and sample rejected; COMMIT]; a third, after COMMIT, only when the batch met
   * identities stored before (to tell which of its rows were duplicates).
   */
  private async transaction(conn: PoolConnection, events: StorableEvent[], hooks: BatchHooks): Promise<StoreOutcome[]> {
    const lookup = hooks.decisionsToLookUp(events);
    // Each event's partition day, computed here (no read): a decision's events all carry its day.
    const days = events.map((e) => (e.claims ? this.eventDayText(e.claims.issuedAt, e.receivedAt) : ''));
    // The batch's days name the partitions to read: one or two of them, not every day kept.
    const stored = await this.rawEvents.openBatch(conn, lookup.length > 0 ? [...new Set(days.filter((d) => d !== ''))] : [], lookup);
    await hooks.classify(events, stored);

    const outcomes: StoreOutcome[] = events.map(() => 'stored');
    const tag = randomInt(0, 2 ** 32);
    // One row per identity: later copies within the batch are duplicates of the first.
    const firstOf = new Map<string, number>();
    const identities: string[] = [];
    const rawIndexes: number[] = [];
    const rejected: RejectedBeacon[] = [];
    events.forEach((e, i) => {
      if (!e.claims) {
        rejected.push({ event: e.event, reason: e.finalReason ?? e.reason ?? 'malformed', receivedAt: e.receivedAt, tokenSha256: e.tokenSha256 ?? '', ipHash: e.ipHash, uaHash: e.uaHash });
        return;
      }
      const identity = `${e.claims.decisionId}|${e.event}`;
      identities[i] = identity;
      if (firstOf.has(identity)) outcomes[i] = 'duplicate';
      else {
        firstOf.set(identity, i);
        rawIndexes.push(i);
      }
    });
    // A consistent order across concurrent batches keeps their unique-key locks from deadlocking.
    rawIndexes.sort((a, b) => (identities[a] < identities[b] ? -1 : identities[a] > identities[b] ? 1 : 0));

    const raw: NewRawEvent[] = rawIndexes.map((i) => ({ event: events[i], day: days[i] }));
    const inserted = await this.rawEvents.insertAndCommit(conn, raw, tag, rejected.length > 0 ? rejectedRows(rejected, this.samplesPerHour) : null);
    if (inserted < raw.length) {
      // Some identities existed already: the rows carrying this batch's tag are the ones it inserted.
      const mine = await this.rawEvents.identitiesTagged(conn, raw, tag);
      for (const i of rawIndexes) if (!mine.has(identities[i])) outcomes[i] = 'duplicate';
    }
    return outcomes;
  }

  private eventDayText(issuedAtSeconds: number, receivedAtMs: number): string {
    const day = eventDay(issuedAtSeconds, receivedAtMs, this.retentionDays);
    let text = this.dayText.get(day);
    if (text === undefined) {
      if (this.dayText.size > 64) this.dayText.clear();
      this.dayText.set(day, (text = isoDay(day)));
    }
    return text;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}
