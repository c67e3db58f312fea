import { Injectable } from '@nestjs/common';
import { RedisService } from '../redis/redis.service';

/** Upper bounds of the wait and run time buckets, ms (the last bucket is everything above). */
export const JOB_TIME_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000];
/** Per-minute buckets are kept this long; SLA windows are at most this long. */
export const JOB_STATS_RETENTION_MINUTES = 120;
/** Waits and run times kept per queue, job and minute for the SLA percentiles (the most recent ones past it). */
export const JOB_SAMPLES_PER_MINUTE = 1000;

const MINUTE_MS = 60_000;

/** Index of the bucket a duration falls in (JOB_TIME_BUCKETS_MS.length for "above the last bound"). */
export function bucketOf(ms: number): number {
  const i = JOB_TIME_BUCKETS_MS.findIndex((bound) => ms <= bound);
  return i === -1 ? JOB_TIME_BUCKETS_MS.length : i;
}

/**
 * The smallest bucket bound below which `quantile` of the samples fall (a conservative estimate: the
 * true value is at most this); null without samples. The overflow bucket reports the largest bound.
 */
export function quantileOf(counts: readonly number[], quantile: number): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.ceil(total * quantile);
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i];
    if (seen >= rank) return JOB_TIME_BUCKETS_MS[Math.min(i, JOB_TIME_BUCKETS_MS.length - 1)];
  }
  return JOB_TIME_BUCKETS_MS[JOB_TIME_BUCKETS_MS.length - 1];
}

/**
 * The nearest-rank quantile of the samples: a value actually observed, so never above the largest one
 * (bucket bounds are not: a 12.4 s wait reads as 30 s from its bucket); null without samples.
 */
export function percentileOf(samples: readonly number[], quantile: number): number | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(sorted.length * quantile))) - 1];
}

/** What a window of job runs looked like, for one queue and job name. */
export interface JobWindowStats {
  queue: string;
  job: string;
  /** Counts per wait bucket (JOB_TIME_BUCKETS_MS, then overflow). */
  wait: number[];
  run: number[];
  /** The waits themselves, ms (at most JOB_SAMPLES_PER_MINUTE per minute), for percentiles that are not bucket bounds. */
  waitSamplesMs: number[];
  runSamplesMs: number[];
  succeeded: number;
  /** Failed attempts (a job retried twice and then done counts 2 here and 1 in succeeded). */
  failed: number;
}

/** Totals since Redis last lost its data, for Prometheus histograms. */
export interface JobTotals extends JobWindowStats {
  waitSumMs: number;
  runSumMs: number;
}

/**
 * Wait and run times of every job, in bounded Redis storage shared by all workers: per queue and job,
 * one hash of bucket counts per minute (expiring after JOB_STATS_RETENTION_MINUTES) for SLA windows,
 * and one hash of running totals for the Prometheus histograms. One pipeline per finished job.
 */
@Injectable()
export class JobStatsService {
  constructor(private readonly redis: RedisService) {}

  // One hash tag for every key here: a finished job's MULTI and a window's pipeline span them all, and
  // on a Redis Cluster the keys of one transaction or pipeline must share a slot.
  private get tag(): string {
    return `{${this.redis.prefix}:jobstats}`;
  }

  private minuteKey(queue: string, job: string, minute: number): string {
    return this.redis.key('ops', this.tag, 'minute', queue, job, minute);
  }

  private samplesKey(queue: string, job: string, minute: number, what: 'wait' | 'run'): string {
    return this.redis.key('ops', this.tag, 'samples', queue, job, minute, what);
  }

  private totalsKey(queue: string, job: string): string {
    return this.redis.key('ops', this.tag, 'totals', queue, job);
  }

  private indexKey(): string {
    return this.redis.key('ops', this.tag, 'index');
  }

  /** Records one attempt: `waitMs` null when it is a retry (its wait is the backoff, not the queue). */
  async record(queue: string, job: string, sample: { waitMs: number | null; runMs: number; ok: boolean }, now = Date.now()): Promise<void> {
    const minute = Math.floor(now / MINUTE_MS);
    const mk = this.minuteKey(queue, job, minute);
    const tk = this.totalsKey(queue, job);
    const pipe = this.redis.client.multi();
    const outcome = sample.ok ? 'ok' : 'fail';
    pipe.hincrby(mk, outcome, 1).hincrby(tk, outcome, 1);
    const run = bucketOf(sample.runMs);
    pipe.hincrby(mk, `r${run}`, 1).hincrby(tk, `r${run}`, 1).hincrby(tk, 'rsum', Math.round(sample.runMs));
    const keep = (key: string, ms: number) => pipe.lpush(key, Math.round(ms)).ltrim(key, 0, JOB_SAMPLES_PER_MINUTE - 1).expire(key, JOB_STATS_RETENTION_MINUTES * 60);
    keep(this.samplesKey(queue, job, minute, 'run'), sample.runMs);
    if (sample.waitMs !== null) {
      const wait = bucketOf(Math.max(0, sample.waitMs));
      pipe.hincrby(mk, `w${wait}`, 1).hincrby(tk, `w${wait}`, 1).hincrby(tk, 'wsum', Math.round(Math.max(0, sample.waitMs)));
      keep(this.samplesKey(queue, job, minute, 'wait'), Math.max(0, sample.waitMs));
    }
    pipe.expire(mk, JOB_STATS_RETENTION_MINUTES * 60);
    pipe.sadd(this.indexKey(), `${queue}|${job}`);
    await pipe.exec();
  }

  /** The (queue, job) pairs that ever ran since Redis last lost its data. */
  async known(): Promise<Array<{ queue: string; job: string }>> {
    const members = await this.redis.client.smembers(this.indexKey());
    return members.map((m) => {
      const [queue, job] = m.split('|');
      return { queue, job };
    });
  }

  /** Stats of the last `windowSeconds` (whole minutes, the current one included). */
  async window(pairs: ReadonlyArray<{ queue: string; job: string }>, windowSeconds: number, now = Date.now()): Promise<JobWindowStats[]> {
    const minutes = Math.max(1, Math.min(JOB_STATS_RETENTION_MINUTES, Math.ceil(windowSeconds / 60)));
    const current = Math.floor(now / MINUTE_MS);
    const pipe = this.redis.client.pipeline();
    for (const { queue, job } of pairs) {
      for (let m = 0; m < minutes; m++) {
        pipe.hgetall(this.minuteKey(queue, job, current - m));
        pipe.lrange(this.samplesKey(queue, job, current - m, 'wait'), 0, -1);
        pipe.lrange(this.samplesKey(queue, job, current - m, 'run'), 0, -1);
      }
    }
    const results = (await pipe.exec()) ?? [];
    return pairs.map(({ queue, job }, p) => {
      const stats = empty(queue, job);
      for (let m = 0; m < minutes; m++) {
        const at = (p * minutes + m) * 3;
        addHash(stats, (results[at]?.[1] ?? {}) as Record<string, string>);
        for (const v of (results[at + 1]?.[1] ?? []) as string[]) stats.waitSamplesMs.push(Number(v));
        for (const v of (results[at + 2]?.[1] ?? []) as string[]) stats.runSamplesMs.push(Number(v));
      }
      return stats;
    });
  }

  async totals(): Promise<JobTotals[]> {
    const pairs = await this.known();
    const pipe = this.redis.client.pipeline();
    for (const { queue, job } of pairs) pipe.hgetall(this.totalsKey(queue, job));
    const results = (await pipe.exec()) ?? [];
    return pairs.map(({ queue, job }, i) => {
      const hash = (results[i]?.[1] ?? {}) as Record<string, string>;
      const stats = empty(queue, job);
      addHash(stats, hash);
      return { ...stats, waitSumMs: Number(hash.wsum ?? 0), runSumMs: Number(hash.rsum ?? 0) };
    });
  }
}

function empty(queue: string, job: string): JobWindowStats {
  const zeros = () => new Array<number>(JOB_TIME_BUCKETS_MS.length + 1).fill(0);
  return { queue, job, wait: zeros(), run: zeros(), waitSamplesMs: [], runSamplesMs: [], succeeded: 0, failed: 0 };
}

function addHash(stats: JobWindowStats, hash: Record<string, string>): void {
  for (const [field, value] of Object.entries(hash)) {
    const n = Number(value);
    if (field === 'ok') stats.succeeded += n;
    else if (field === 'fail') stats.failed += n;
    else if (field[0] === 'w' && field !== 'wsum') stats.wait[Number(field.slice(1))] += n;
    else if (field[0] === 'r' && field !== 'rsum') stats.run[Number(field.slice(1))] += n;
  }
}
