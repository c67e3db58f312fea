import type { ExportTableName } from './export-tables';

/** One Parquet part file of a day. */
export interface ManifestFile {
  name: string;
  rows: number;
  /** Hex SHA-256 of the file's bytes. */
  sha256: string;
}

/**
 * `_manifest.json` of one table's day folder: what the files hold, counted from the files themselves
 * after they were written, so that verification compares what is on disk with MySQL.
 */
export interface DayManifest {
  date: string;
  table: ExportTableName;
  /** The day could still receive events when it was exported (its tokens had not all expired). */
  partial: boolean;
  rows: number;
  /** Every measure of the table, as decimal strings (sums may pass 2^53). */
  sums: Record<string, string>;
  files: ManifestFile[];
  columns: Array<{ name: string; type: string }>;
  runId: string;
  exportedAt: string;
}

export const MANIFEST_FILE = '_manifest.json';

/** Name of the n-th (0-based) part file of a day. */
export const partName = (n: number) => `part-${String(n).padStart(4, '0')}.parquet`;
