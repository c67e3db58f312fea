import { sqlWhere, uuidv7 } from '@app/platform';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export type DeadLetterState = 'dead' | 'retrying' | 'done';

export interface DeadLetter {
  id: string;
  queue: string;
  jobName: string;
  jobId: string | null;
  payload: unknown;
  error: string;
  attempts: number;
  failedAt: Date;
  state: DeadLetterState;
  retryJobId: string | null;
  retriedAt: Date | null;
  retriedBy: string | null;
  doneAt: Date | null;
}

/** What the worker records of a job that failed its last attempt. */
export type NewDeadLetter = Pick<DeadLetter, 'queue' | 'jobName' | 'jobId' | 'payload' | 'error' | 'attempts'>;

type Raw = Record<string, unknown>;

function toDeadLetter(r: Raw): DeadLetter {
  let payload: unknown = r.payload;
  try {
    payload = JSON.parse(r.payload as string);
  } catch {
    // Kept as text when it was not JSON.
  }
  return {
    id: r.id as string,
    queue: r.queue as string,
    jobName: r.job_name as string,
    jobId: (r.job_id as string | null) ?? null,
    payload,
    error: r.error as string,
    attempts: Number(r.attempts),
    failedAt: r.failed_at as Date,
    state: r.state as DeadLetterState,
    retryJobId: (r.retry_job_id as string | null) ?? null,
    retriedAt: (r.retried_at as Date | null) ?? null,
    retriedBy: (r.retried_by as string | null) ?? null,
    doneAt: (r.done_at as Date | null) ?? null,
  };
}

/** The SQL of dead letters. Each change of state is a conditional UPDATE: the one caller whose row matched made it. */
@Injectable()
export class DeadLetterRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(letter: NewDeadLetter): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO dead_letters (id, queue, job_name, job_id, payload, error, attempts, failed_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, NOW(3), 'dead')`,
      [uuidv7(), letter.queue, letter.jobName, letter.jobId, JSON.stringify(letter.payload ?? null), letter.error, letter.attempts],
    );
  }

  async find(id: string): Promise<DeadLetter | null> {
    const [row] = (await this.dataSource.query('SELECT * FROM dead_letters WHERE id = ?', [id])) as Raw[];
    return row ? toDeadLetter(row) : null;
  }

  /** Newest first, after the `cursor` id or skipping `offset` rows (`?page=`). */
  async list(filter: { state?: DeadLetterState; queue?: string; cursor?: string; offset?: number; limit: number }): Promise<DeadLetter[]> {
    const where = sqlWhere([filter.state && ['state = ?', filter.state], filter.queue && ['queue = ?', filter.queue], filter.cursor && ['id < ?', filter.cursor]]);
    const rows = (await this.dataSource.query(`SELECT * FROM dead_letters ${where.sql} ORDER BY id DESC LIMIT ? OFFSET ?`, [...where.params, filter.limit, filter.offset ?? 0])) as Raw[];
    return rows.map(toDeadLetter);
  }

  /** dead -> retrying under `retryJobId`; false when the letter was not dead (someone else claimed it). */
  async claimForRetry(id: string, retryJobId: string, actor: string): Promise<boolean> {
    const result = (await this.dataSource.query(`UPDATE dead_letters SET state = 'retrying', retry_job_id = ?, retried_at = NOW(3), retried_by = ? WHERE id = ? AND state = 'dead'`, [
      retryJobId,
      actor,
      id,
    ])) as { affectedRows: number };
    return result.affectedRows === 1;
  }

  /** Undoes a claim whose job could not be enqueued: dead again, as before it. */
  async releaseClaim(id: string): Promise<void> {
    await this.dataSource.query(`UPDATE dead_letters SET state = 'dead', retry_job_id = NULL, retried_at = NULL, retried_by = NULL WHERE id = ?`, [id]);
  }

  /** A retry that failed in turn: retrying -> dead (its failure is a dead letter of its own). */
  async markDeadAgain(id: string): Promise<void> {
    await this.dataSource.query(`UPDATE dead_letters SET state = 'dead' WHERE id = ? AND state = 'retrying'`, [id]);
  }

  /** A retry that completed: retrying -> done. */
  async markDone(retryJobId: string): Promise<void> {
    await this.dataSource.query(`UPDATE dead_letters SET state = 'done', done_at = NOW(3) WHERE retry_job_id = ? AND state = 'retrying'`, [retryJobId]);
  }

  /** Deletes up to 10,000 letters that failed more than `days` ago; the number deleted. */
  async deleteOlderThan(days: number): Promise<number> {
    const result = (await this.dataSource.query('DELETE FROM dead_letters WHERE failed_at < NOW(3) - INTERVAL ? DAY LIMIT 10000', [days])) as { affectedRows: number };
    return result.affectedRows;
  }
}
