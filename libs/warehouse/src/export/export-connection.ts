import { PlatformConfig, mysqlConnection } from '@app/platform';
import { createHash } from 'node:crypto';
import { Connection, createConnection } from 'mysql2';

/**
 * The day's export lock: a MySQL named lock held by the export's own connection. MySQL releases it
 * the moment that connection goes away, so a worker killed mid-export leaves no lock behind and its
 * `running` row is known to be a dead run's. Named per database, since the server is shared.
 */
export function exportLockName(dbName: string, day: string): string {
  return `adp-export-${createHash('sha256').update(dbName).digest('hex').slice(0, 16)}-${day}`;
}

/** Accepts a line of the stream (its bytes, a view of the socket's data): true to go on, or a promise to wait for before reading more. */
export type LineSink = (line: Buffer) => true | Promise<void>;

/** One dedicated mysql2 connection: the export's lock, and its rows streamed with back-pressure. */
export class ExportConnection {
  private constructor(private readonly connection: Connection) {}

  static open(config: PlatformConfig): Promise<ExportConnection> {
    return new Promise((resolve, reject) => {
      const connection = createConnection({ ...mysqlConnection(config), connectTimeout: 5000 });
      connection.connect((err) => (err ? reject(err) : resolve(new ExportConnection(connection))));
    });
  }

  query<T>(sql: string, params: unknown[] = []): Promise<T> {
    return new Promise((resolve, reject) => this.connection.query(sql, params, (err, rows) => (err ? reject(err) : resolve(rows as T))));
  }

  /** Takes the named lock without waiting; false when another connection holds it. */
  async tryLock(name: string): Promise<boolean> {
    const [row] = await this.query<Array<{ got: number | null }>>('SELECT GET_LOCK(?, 0) AS got', [name]);
    return row.got === 1;
  }

  /**
   * Streams a one-column query row by row into `sink`, pausing the socket while the sink is busy, so
   * that memory holds a bounded number of rows however many the query returns. Resolves with the count.
   * Each line arrives as the bytes MySQL sent (typeCast off: a view of the packet, no string decoded),
   * so the worker's heap sees no per-row string to collect.
   */
  streamLines(sql: string, params: unknown[], sink: LineSink): Promise<number> {
    return new Promise((resolve, reject) => {
      let count = 0;
      let failed: Error | undefined;
      const query = this.connection.query({ sql, values: params, rowsAsArray: true, typeCast: false });
      query.on('result', (row: unknown) => {
        if (failed) return;
        count++;
        const next = sink((row as [Buffer])[0]);
        if (next === true) return;
        this.connection.pause();
        next.then(
          () => this.connection.resume(),
          (err: Error) => {
            failed = err;
            this.connection.destroy();
            reject(err);
          },
        );
      });
      query.on('error', (err: Error) => {
        if (!failed) reject(err);
      });
      query.on('end', () => {
        if (!failed) resolve(count);
      });
    });
  }

  /** Releases the lock (so that the next request for the day is not refused meanwhile) and closes the connection. */
  async close(lockName: string): Promise<void> {
    try {
      await this.query('SELECT RELEASE_LOCK(?)', [lockName]);
      await new Promise<void>((resolve) => this.connection.end(() => resolve()));
    } finally {
      this.connection.destroy();
    }
  }
}
