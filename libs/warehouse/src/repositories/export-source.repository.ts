import type { Queryable } from '@app/platform';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ExportColumn, SourceColumn, exportColumn, lineExpression } from '../export/export-columns';
import type { ExportConnection, LineSink } from '../export/export-connection';
import type { ExportTable } from '../export/export-tables';

/**
 * What the export reads of its source tables (raw events, hourly rollups): their columns, a day's rows
 * as export lines, and a day's totals for verification. The day's filter and order come from the
 * table's definition (export-tables.ts); the line and measure expressions from export-columns.ts.
 */
@Injectable()
export class ExportSourceRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The Parquet column list of a MySQL table, in its order, from information_schema (on `db`: the export's own connection, or the pool). */
  async columns(table: string, db: Queryable = this.dataSource): Promise<ExportColumn[]> {
    const rows = await db.query<Array<Record<string, unknown>>>(
      `SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType, DATETIME_PRECISION AS dp, NUMERIC_PRECISION AS np, NUMERIC_SCALE AS ns, CHARACTER_SET_NAME AS cs
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
      [table],
    );
    if (rows.length === 0) throw new Error(`table ${table} not found`);
    const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    return rows.map((r) => exportColumn({ name: r.name as string, dataType: r.dataType as string, columnType: r.columnType as string, datetimePrecision: num(r.dp), numericPrecision: num(r.np), numericScale: num(r.ns), characterSet: (r.cs as string | null) ?? null } satisfies SourceColumn));
  }

  /** Streams a day's rows, as export lines in the table's order, through the export's connection into `sink`; resolves with the count. */
  dayLines(connection: ExportConnection, table: ExportTable, columns: ExportColumn[], day: string, sink: LineSink): Promise<number> {
    const filter = table.dayFilter(day);
    return connection.streamLines(`SELECT ${lineExpression(columns)} FROM ${table.source} WHERE ${filter.sql} ORDER BY ${table.orderBy}`, filter.params, sink);
  }

  /** A day's row count and each measure (as MySQL's text of it, as the manifest keeps them; '0' for none). */
  async dayTotals(table: ExportTable, columns: ExportColumn[], day: string): Promise<{ rows: number; sums: Record<string, string> }> {
    const measures = table.measures(columns);
    const names = Object.keys(measures);
    const filter = table.dayFilter(day);
    const select = ['COUNT(*)', ...names.map((n) => measures[n])].map((e, i) => `CAST(${e} AS CHAR) AS m${i}`).join(', ');
    const [counted] = await this.dataSource.query<Array<Record<string, string | null>>>(`SELECT ${select} FROM ${table.source} WHERE ${filter.sql}`, filter.params);
    return { rows: Number(counted.m0), sums: Object.fromEntries(names.map((name, i) => [name, counted[`m${i + 1}`] ?? '0'])) };
  }
}
