import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');
export const LOG_DIR = join(ROOT, 'test', '.logs');

/**
 * Ports are handed out from a block of 1,000 per Jest worker (the global setup and scripts outside
 * Jest get block 0), counting up, below Linux's ephemeral range (32768+). Asking the OS for any free
 * port instead let two test files running at once get the same one between its probe and the server's
 * bind, and an API that lost the race was taken for up because another stack's API answered on it.
 */
const PORT_BLOCK = 1000;
const FIRST_PORT = 20_000;
/** First port of this process's block. */
const BASE_PORT = FIRST_PORT + (Number(process.env.JEST_WORKER_ID ?? 0) % 12) * PORT_BLOCK;
let nextPort = process.pid % PORT_BLOCK;

function isFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const server = createServer();
    server.once('error', () => res(false));
    server.listen(port, '0.0.0.0', () => server.close(() => res(true)));
  });
}

export async function freePort(): Promise<number> {
  for (let tries = 0; tries < PORT_BLOCK; tries++) {
    const port = BASE_PORT + (nextPort++ % PORT_BLOCK);
    if (await isFree(port)) return port;
  }
  throw new Error(`no free port in ${BASE_PORT}-${BASE_PORT + PORT_BLOCK - 1}`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns truthy or `timeoutMs` passes. */
export async function waitFor<T>(check: () => Promise<T | undefined | null | false>, timeoutMs: number, what: string, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

export interface ManagedProcess {
  child: ChildProcess;
  logFile: string;
  output: () => string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/** Spawns a process with its output kept in memory and in test/.logs/<name>.log. */
export function startProcess(name: string, command: string, args: string[], env: NodeJS.ProcessEnv): ManagedProcess {
  if (!existsSync(LOG_DIR)) mkdirSync(LOG_DIR, { recursive: true });
  const logFile = join(LOG_DIR, `${name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let buffer = '';
  const collect = (chunk: Buffer) => {
    const text = chunk.toString();
    buffer = (buffer + text).slice(-200_000);
    log.write(text);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | string>((res) =>
    child.once('exit', (code, signal) => {
      log.end();
      res(code ?? signal ?? -1);
    }),
  );
  return {
    child,
    logFile,
    output: () => buffer,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}
