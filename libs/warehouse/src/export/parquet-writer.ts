import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { mkdir } from 'node:fs/promises';
import { ExportColumn, readStagedSql, sqlString } from './export-columns';

/**
 * Rows per Parquet row group: a quarter of DuckDB's default, so that one group of raw events (its strings and
 * dictionaries) fits in EXPORT_MEMORY_LIMIT_MB with the reader's buffers (measured: the default ran out
 * of 64 MB and, given 128 MB, took 2.7x as long as this).
 */
const ROW_GROUP_ROWS = 30_720;

/**
 * DuckDB, in memory with a memory limit, turning staged lines into Parquet and counting what the
 * Parquet files hold. One thread: the output is the same bytes for the same rows (a rerun gives the same
 * SHA-256), and the worker's other core stays with MySQL and the stream.
 */
export class ParquetWriter {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  static async open(spillDir: string, memoryLimitMb: number): Promise<ParquetWriter> {
    await mkdir(spillDir, { recursive: true });
    const instance = await DuckDBInstance.create(':memory:', {
      threads: '1',
      memory_limit: `${memoryLimitMb}MB`,
      temp_directory: spillDir,
      preserve_insertion_order: 'true',
      enable_external_access: 'true',
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    });
    return new ParquetWriter(instance, await instance.connect());
  }

  /** Writes the staged lines at `stagedPath` as one Parquet file, in their order; returns its row count. */
  async write(stagedPath: string, columns: readonly ExportColumn[], parquetPath: string): Promise<number> {
    const result = await this.connection.run(`COPY (${readStagedSql(stagedPath, columns)}) TO ${sqlString(parquetPath)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${ROW_GROUP_ROWS})`);
    return Number(result.rowsChanged);
  }

  /** Rows and sums of the measures over Parquet files (decimal strings; an empty set sums to 0). */
  async summarize(paths: readonly string[], measures: Record<string, string>): Promise<{ rows: number; sums: Record<string, string> }> {
    const names = Object.keys(measures);
    if (paths.length === 0) return { rows: 0, sums: Object.fromEntries(names.map((n) => [n, '0'])) };
    const select = ['COUNT(*)', ...names.map((n) => measures[n])].map((e) => `CAST(${e} AS VARCHAR)`).join(', ');
    const reader = await this.connection.runAndReadAll(`SELECT ${select} FROM read_parquet([${paths.map(sqlString).join(', ')}])`);
    const [row] = reader.getRows();
    return { rows: Number(row[0]), sums: Object.fromEntries(names.map((n, i) => [n, (row[i + 1] as string | null) ?? '0'])) };
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}
