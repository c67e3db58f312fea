import { ManagedProcess, freePort, startProcess, waitFor } from './processes';
import { createConnection } from 'node:net';

/** A private redis-server for tests that stop and restart Redis without disturbing anyone else. */
export class RedisServer {
  private process?: ManagedProcess;

  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort());
    await server.resume();
    return server;
  }

  /** (Re)starts the server on the same port, empty. */
  async resume(): Promise<void> {
    this.process = startProcess(`redis-${this.port}`, 'redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {});
    await waitFor(() => canConnect(this.port), 10000, `redis-server on ${this.port}`);
  }

  async stop(): Promise<void> {
    await this.process?.stop('SIGKILL');
    await waitFor(async () => !(await canConnect(this.port)), 5000, 'redis-server to stop');
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((res) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      res(true);
    });
    socket.once('error', () => res(false));
  });
}
