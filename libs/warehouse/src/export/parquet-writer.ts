import type { DuckDBConnection } from '@duckdb/node-api';
import { mkdir } from 'node:fs/promises';
import { ExportColumn, readStagedSql, sqlString } from './export-columns';

/**
 * Rows per Parquet row group: an eighth of DuckDB's default. A row group is built in memory before it is
 * written, so its size sets the writer's peak (measured on 500,000 staged raw events in a process of its
 * own, peak over the process's start: 30,720 rows +65 to +68 MB, 16,384 rows +51 to +55 MB, 8,192 rows
 * +43 MB but files 6% larger; the default ran out of a 64 MB memory limit).
 */
const ROW_GROUP_ROWS = 16_384;

/**
 * DuckDB, in memory with a memory limit, turning staged lines into Parquet and counting what the
 * Parquet files hold. One thread: the output is the same bytes for the same rows (a rerun gives the same
 * SHA-256), and the worker's other core stays with MySQL and the stream.
 *
 * Each part, and the count at the end, gets an instance of its own, closed when done: one instance kept
 * for a whole day held on to memory after every part (a process converting the same part eight times grew
 * from +66 to +128 MB; with a fresh instance each time it stayed within +65 to +70 MB). The library itself is loaded on the
 * first export, so a worker that never exports does not map it.
 */
export class ParquetWriter {
  private constructor(
    private readonly spillDir: string,
    private readonly memoryLimitMb: number,
  ) {}

  static async open(spillDir: string, memoryLimitMb: number): Promise<ParquetWriter> {
    await mkdir(spillDir, { recursive: true });
    return new ParquetWriter(spillDir, memoryLimitMb);
  }

  /** Writes the staged lines at `stagedPath` as one Parquet file, in their order; returns its row count. */
  write(stagedPath: string, columns: readonly ExportColumn[], parquetPath: string): Promise<number> {
    return this.withDuckDb(async (connection) => {
      const result = await connection.run(`COPY (${readStagedSql(stagedPath, columns)}) TO ${sqlString(parquetPath)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${ROW_GROUP_ROWS})`);
      return Number(result.rowsChanged);
    });
  }

  /** Rows and sums of the measures over Parquet files (decimal strings; an empty set sums to 0). */
  async summarize(paths: readonly string[], measures: Record<string, string>): Promise<{ rows: number; sums: Record<string, string> }> {
    const names = Object.keys(measures);
    if (paths.length === 0) return { rows: 0, sums: Object.fromEntries(names.map((n) => [n, '0'])) };
    const select = ['COUNT(*)', ...names.map((n) => measures[n])].map((e) => `CAST(${e} AS VARCHAR)`).join(', ');
    const [row] = await this.withDuckDb(async (connection) => (await connection.runAndReadAll(`SELECT ${select} FROM read_parquet([${paths.map(sqlString).join(', ')}])`)).getRows());
    return { rows: Number(row[0]), sums: Object.fromEntries(names.map((n, i) => [n, (row[i + 1] as string | null) ?? '0'])) };
  }

  private async withDuckDb<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(':memory:', {
      threads: '1',
      memory_limit: `${this.memoryLimitMb}MB`,
      temp_directory: this.spillDir,
      preserve_insertion_order: 'true',
      enable_external_access: 'true',
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    });
    try {
      const connection = await instance.connect();
      try {
        return await work(connection);
      } finally {
        connection.closeSync();
      }
    } finally {
      instance.closeSync();
    }
  }
}
