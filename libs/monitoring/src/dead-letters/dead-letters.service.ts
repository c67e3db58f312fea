import { ALL_JOBS, FinalFailure, JobName, JobObserver, JobQueue, Principal, actorOf, uuidv7 } from '@app/platform';
import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Job } from 'bullmq';
import { DataSource } from 'typeorm';

export interface DeadLetter {
  id: string;
  queue: string;
  jobName: string;
  jobId: string | null;
  payload: unknown;
  error: string;
  attempts: number;
  failedAt: Date;
  state: 'dead' | 'retrying' | 'done';
  retryJobId: string | null;
  retriedAt: Date | null;
  retriedBy: string | null;
  doneAt: Date | null;
}

type Raw = Record<string, unknown>;

/** Job ids of retried dead letters; the completion of such a job marks its dead letter done. */
const RETRY_PREFIX = 'dead-letter-retry-';

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
    state: r.state as DeadLetter['state'],
    retryJobId: (r.retry_job_id as string | null) ?? null,
    retriedAt: (r.retried_at as Date | null) ?? null,
    retriedBy: (r.retried_by as string | null) ?? null,
    doneAt: (r.done_at as Date | null) ?? null,
  };
}

/**
 * Jobs that failed every attempt: recorded by the worker (through the JobObserver) with queue, name,
 * payload, error and attempts; listed, retried on request (a new job with the same name and payload),
 * marked done when the retry completes, and pruned by age.
 */
@Injectable()
export class DeadLettersService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly jobs: JobQueue,
  ) {}

  /** Worker side: starts recording (called by the monitoring jobs module). */
  listen(observer: JobObserver): void {
    observer.onFinalFailure((failure) => this.record(failure));
    observer.onCompleted((_queue, job) => this.markDone(job));
  }

  async record({ queue, job, error, attempts }: FinalFailure): Promise<void> {
    const message = `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}`.slice(0, 60_000);
    await this.dataSource.query(
      `INSERT INTO dead_letters (id, queue, job_name, job_id, payload, error, attempts, failed_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, NOW(3), 'dead')`,
      [uuidv7(), queue, job.name, job.id ?? null, JSON.stringify(job.data ?? null), message, attempts],
    );
    if (job.id?.startsWith(RETRY_PREFIX)) {
      // The retry of a dead letter failed in turn: that one is dead again (the new row has the new error).
      await this.dataSource.query(`UPDATE dead_letters SET state = 'dead' WHERE id = ? AND state = 'retrying'`, [job.id.slice(RETRY_PREFIX.length).split('-r')[0]]);
    }
  }

  private async markDone(job: Job): Promise<void> {
    if (!job.id?.startsWith(RETRY_PREFIX)) return;
    await this.dataSource.query(`UPDATE dead_letters SET state = 'done', done_at = NOW(3) WHERE retry_job_id = ? AND state = 'retrying'`, [job.id]);
  }

  async list(filter: { state?: DeadLetter['state']; queue?: string; cursor?: string; limit: number }): Promise<DeadLetter[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.state) {
      where.push('state = ?');
      params.push(filter.state);
    }
    if (filter.queue) {
      where.push('queue = ?');
      params.push(filter.queue);
    }
    if (filter.cursor) {
      where.push('id < ?');
      params.push(filter.cursor);
    }
    params.push(filter.limit);
    const rows = (await this.dataSource.query(`SELECT * FROM dead_letters ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`, params)) as Raw[];
    return rows.map(toDeadLetter);
  }

  async get(id: string): Promise<DeadLetter> {
    const [row] = (await this.dataSource.query('SELECT * FROM dead_letters WHERE id = ?', [id])) as Raw[];
    if (!row) throw new NotFoundException(`dead letter ${id} not found`);
    return toDeadLetter(row);
  }

  /** Enqueues the job again with its payload; 409 when it is already being retried or done. */
  async retry(id: string, actor: Principal): Promise<DeadLetter> {
    const letter = await this.get(id);
    if (letter.state !== 'dead') throw new ConflictException(`dead letter ${id} is ${letter.state}, not dead: nothing to retry`);
    if (!(ALL_JOBS as readonly string[]).includes(letter.jobName)) throw new ConflictException(`job ${letter.jobName} no longer exists; it cannot be retried`);
    const retryJobId = `${RETRY_PREFIX}${id}-r${Date.now()}`;
    const claimed = (await this.dataSource.query(`UPDATE dead_letters SET state = 'retrying', retry_job_id = ?, retried_at = NOW(3), retried_by = ? WHERE id = ? AND state = 'dead'`, [
      retryJobId,
      actorOf(actor),
      id,
    ])) as { affectedRows: number };
    if (claimed.affectedRows !== 1) throw new ConflictException(`dead letter ${id} is being retried already`);
    const name = letter.jobName as JobName;
    try {
      await this.jobs.enqueue(name, letter.payload as never, { jobId: retryJobId });
    } catch (err) {
      await this.dataSource.query(`UPDATE dead_letters SET state = 'dead', retry_job_id = NULL, retried_at = NULL, retried_by = NULL WHERE id = ?`, [id]);
      throw err;
    }
    return this.get(id);
  }

  async prune(retentionDays: number): Promise<{ deleted: number }> {
    const result = (await this.dataSource.query('DELETE FROM dead_letters WHERE failed_at < NOW(3) - INTERVAL ? DAY LIMIT 10000', [retentionDays])) as { affectedRows: number };
    return { deleted: result.affectedRows };
  }
}
