import { readFileSync, readdirSync } from 'node:fs';
import type Redis from 'ioredis';

/** CPU time a process has used so far in user and in system (kernel) mode, ms (Linux /proc; clock ticks of 10 ms). */
export function cpuSplitMs(pid: number): { user: number; system: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return { user: (Number(fields[11]) * 1000) / 100, system: (Number(fields[12]) * 1000) / 100 };
}

/** CPU time (user + system) of a process's main thread and of all its other threads (GC helpers, libuv pool), ms. */
export function threadsCpuMs(pid: number): { main: number; others: number } {
  let main = 0;
  let others = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
      const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
      if (Number(tid) === pid) main += ms;
      else others += ms;
    } catch {
      // the thread ended meanwhile
    }
  }
  return { main, others };
}

/** CPU time (user + system) a process has used so far, ms. */
export function cpuMs(pid: number): number {
  const { user, system } = cpuSplitMs(pid);
  return user + system;
}

function statusKb(pid: number, field: 'VmHWM' | 'VmRSS' | 'RssAnon' | 'RssFile'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
}

/** Peak resident memory of a process so far, MB. */
export function peakRssMb(pid: number): number {
  return statusKb(pid, 'VmHWM') / 1024;
}

/** Resident memory of a process now, MB. */
export function currentRssMb(pid: number): number {
  return statusKb(pid, 'VmRSS') / 1024;
}

/**
 * Samples a process's resident memory every `everyMs` until stopped: the highest VmRSS seen, split into
 * anonymous memory (V8's heap, native allocations) and file-backed pages (code of node and its addons)
 * at that moment. VmHWM stays the peak to report; the split says where it went.
 */
export function sampleRss(pid: number, everyMs = 200): { stop(): { rssMb: number; anonMb: number; fileMb: number } } {
  let top = { rssMb: 0, anonMb: 0, fileMb: 0 };
  const sample = () => {
    try {
      const [anonMb, fileMb] = [statusKb(pid, 'RssAnon') / 1024, statusKb(pid, 'RssFile') / 1024];
      if (anonMb + fileMb > top.rssMb) top = { rssMb: anonMb + fileMb, anonMb, fileMb };
    } catch {
      // the process ended
    }
  };
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return top;
    },
  };
}

/** The element with the median value of `key`. */
export function medianBy<T>(values: readonly T[], key: (value: T) => number): T {
  return [...values].sort((a, b) => key(a) - key(b))[Math.floor(values.length / 2)];
}

/** CPU time Redis has used so far (user + system, from INFO cpu: the whole server), ms. */
export async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return (field('used_cpu_sys') + field('used_cpu_user')) * 1000;
}

/** CPU time the local MariaDB/MySQL server has used so far, ms; NaN when its process is not visible here. */
export function mysqlCpuMs(): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (comm === 'mariadbd' || comm === 'mysqld') return cpuMs(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return NaN;
}

/** Calls and microseconds per command so far (INFO commandstats; scripts' inner commands included). */
export async function redisCommandStats(redis: Redis): Promise<Map<string, { calls: number; usec: number }>> {
  const info = await redis.info('commandstats');
  const out = new Map<string, { calls: number; usec: number }>();
  for (const m of info.matchAll(/cmdstat_([^:]+):calls=(\d+),usec=(\d+)/g)) out.set(m[1], { calls: Number(m[2]), usec: Number(m[3]) });
  return out;
}
