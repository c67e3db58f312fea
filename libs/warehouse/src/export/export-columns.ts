/**
 * How each MySQL column travels to Parquet. MariaDB writes each row as one tab-separated line (text
 * built server-side, so the worker parses one string per row instead of twenty values), and DuckDB
 * reads those lines with the column's type and writes Parquet. The columns are read from
 * information_schema, so a column added by a migration is exported without a change here.
 */

/** A column as information_schema.COLUMNS describes it. */
export interface SourceColumn {
  name: string;
  /** DATA_TYPE, e.g. bigint, varchar, datetime. */
  dataType: string;
  /** COLUMN_TYPE, e.g. 'bigint(20) unsigned'. */
  columnType: string;
  datetimePrecision: number | null;
  numericPrecision: number | null;
  numericScale: number | null;
  /** CHARACTER_SET_NAME of a string column (null for others). */
  characterSet: string | null;
}

export interface ExportColumn {
  name: string;
  /** DuckDB (and so Parquet) type of the exported column. */
  duckType: string;
  /** MySQL expression giving the column's field of the line: never NULL (\N stands for NULL). */
  field: string;
  /** Type DuckDB reads the field as; the select expression turns it into duckType. */
  readType: string;
  /** DuckDB select expression over the read column. */
  select: string;
  /** Whole numbers: summed by the rollups' verification. */
  integral: boolean;
}

const NULL_TEXT = "'\\\\N'";
const ident = (name: string) => `\`${name.replace(/`/g, '``')}\``;
const quoted = (name: string) => `"${name.replace(/"/g, '""')}"`;

const INTEGERS: Record<string, string> = { tinyint: 'TINYINT', smallint: 'SMALLINT', mediumint: 'INTEGER', int: 'INTEGER', bigint: 'BIGINT' };
const STRINGS = new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'enum', 'set', 'json']);
/** Character sets whose stored bytes are already UTF-8, as DuckDB reads them. */
const UTF8_STORED = new Set(['ascii', 'utf8', 'utf8mb3', 'utf8mb4']);
const BINARIES = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob']);

export function exportColumn(c: SourceColumn): ExportColumn {
  const col = ident(c.name);
  const plain = (duckType: string, integral = false): ExportColumn => ({ name: c.name, duckType, field: `IFNULL(${col}, ${NULL_TEXT})`, readType: duckType, select: quoted(c.name), integral });
  const type = c.dataType.toLowerCase();
  if (type in INTEGERS) {
    const unsigned = /unsigned/i.test(c.columnType);
    return plain(unsigned ? `U${INTEGERS[type]}` : INTEGERS[type], true);
  }
  if (type === 'decimal') return plain(`DECIMAL(${c.numericPrecision ?? 18},${c.numericScale ?? 0})`, (c.numericScale ?? 0) === 0);
  if (type === 'float' || type === 'double') return plain(type === 'float' ? 'FLOAT' : 'DOUBLE');
  // DATETIME(3) keeps its milliseconds; MySQL prints 'YYYY-MM-DD HH:MM:SS[.fff]', which DuckDB reads as is.
  if (type === 'datetime' || type === 'timestamp') return plain((c.datetimePrecision ?? 0) <= 3 && (c.datetimePrecision ?? 0) > 0 ? 'TIMESTAMP_MS' : 'TIMESTAMP');
  if (type === 'date') return plain('DATE');
  if (STRINGS.has(type)) {
    // Quoted, quotes doubled: tabs, newlines and quotes inside a value (user ids come from players) survive.
    // Replaced as bytes: a collation-aware REPLACE cost MariaDB ~18% more CPU for the whole line (raw events).
    const utf8 = UTF8_STORED.has((c.characterSet ?? '').toLowerCase()) ? col : `CONVERT(${col} USING utf8mb4)`;
    return { name: c.name, duckType: 'VARCHAR', field: `IF(${col} IS NULL, ${NULL_TEXT}, CONCAT('"', REPLACE(CAST(${utf8} AS BINARY), '"', '""'), '"'))`, readType: 'VARCHAR', select: quoted(c.name), integral: false };
  }
  if (BINARIES.has(type)) {
    return { name: c.name, duckType: 'BLOB', field: `IFNULL(HEX(${col}), ${NULL_TEXT})`, readType: 'VARCHAR', select: `unhex(${quoted(c.name)}) AS ${quoted(c.name)}`, integral: false };
  }
  throw new Error(`column ${c.name} of type ${c.columnType} has no Parquet mapping (add one in export-columns.ts)`);
}

/** MySQL expression of one whole line of the staging file. */
export function lineExpression(columns: readonly ExportColumn[]): string {
  return `CONCAT_WS('\\t', ${columns.map((c) => c.field).join(', ')})`;
}

/** DuckDB query reading a staging file of lines in the columns' order. */
export function readStagedSql(path: string, columns: readonly ExportColumn[]): string {
  const types = columns.map((c) => `${sqlString(c.name)}: ${sqlString(c.readType)}`).join(', ');
  const options = [
    "delim = '\\t'",
    `quote = '"'`,
    `escape = '"'`,
    'header = false',
    "nullstr = '\\N'",
    'allow_quoted_nulls = false',
    'auto_detect = false',
    // 1 MB read buffers instead of 16 MB: with a row group being built, the default overran a 64 MB memory limit.
    'buffer_size = 1048576',
    "new_line = '\\n'",
    `columns = {${types}}`,
  ];
  return `SELECT ${columns.map((c) => c.select).join(', ')} FROM read_csv(${sqlString(path)}, ${options.join(', ')})`;
}

/** A SQL string literal (MySQL and DuckDB alike for the paths and names used here). */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
