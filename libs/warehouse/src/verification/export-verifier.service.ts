import { PlatformConfig, WorkerConfig } from '@app/platform';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { dayFolder, sha256Of } from '../export/day-exporter.service';
import { EXPORT_TABLES, ExportTable } from '../export/export-tables';
import { ExportSourceRepository } from '../repositories/export-source.repository';
import { ExportStateRepository } from '../repositories/export-state.repository';

export interface FileCheck {
  name: string;
  ok: boolean;
  problem?: string;
}

/** What one verification found, kept in data_exports.verification. */
export interface Verification {
  ok: boolean;
  checkedAt: string;
  runId: string;
  rows: { manifest: number; mysql: number };
  /** Only the measures that differ (all of them agree when empty). */
  differences: Record<string, { manifest: string; mysql: string }>;
  files: FileCheck[];
}

export interface TableVerification {
  table: string;
  state: 'verified' | 'mismatch' | 'skipped';
  reason?: string;
  verification?: Verification;
}

/**
 * Verification: each manifest against MySQL (row count and every measure, computed by the same
 * expressions over the same day's rows) and against the disk (every file present with its SHA-256).
 * The result is recorded on the run that wrote the manifest; a final day that disagrees is an SLA breach.
 */
@Injectable()
export class ExportVerifier {
  private readonly logger = new Logger(ExportVerifier.name);

  constructor(
    private readonly source: ExportSourceRepository,
    private readonly state: ExportStateRepository,
    @Inject(PlatformConfig) private readonly config: WorkerConfig,
  ) {}

  async verifyDay(day: string, now = new Date()): Promise<TableVerification[]> {
    const out: TableVerification[] = [];
    for (const table of EXPORT_TABLES) out.push(await this.verifyTable(table, day, now));
    return out;
  }

  private async verifyTable(table: ExportTable, day: string, now: Date): Promise<TableVerification> {
    const row = await this.state.get(day, table.name);
    if (!row?.manifest || !row.runId || !['exported', 'verified', 'mismatch'].includes(row.state)) {
      return { table: table.name, state: 'skipped', reason: row ? `state ${row.state}: nothing exported to verify` : 'never exported' };
    }
    const manifest = row.manifest;
    const counted = await this.source.dayTotals(table, await this.source.columns(table.source), day);
    const mysqlRows = counted.rows;
    const differences: Verification['differences'] = {};
    for (const [name, mysql] of Object.entries(counted.sums)) {
      const inManifest = manifest.sums[name] ?? '(missing)';
      if (mysql !== inManifest) differences[name] = { manifest: inManifest, mysql };
    }
    const files = await this.checkFiles(table.name, day, manifest.files);
    const ok = mysqlRows === manifest.rows && Object.keys(differences).length === 0 && files.every((f) => f.ok);
    const verification: Verification = { ok, checkedAt: now.toISOString(), runId: row.runId, rows: { manifest: manifest.rows, mysql: mysqlRows }, differences, files };
    const recorded = await this.state.verified(day, table.name, row.runId, ok, verification as unknown as Record<string, unknown>, now);
    if (!recorded) return { table: table.name, state: 'skipped', reason: 'another export of the day started meanwhile' };
    if (!ok) {
      const what = [mysqlRows !== manifest.rows ? `rows ${manifest.rows} in the export, ${mysqlRows} in MySQL` : '', ...Object.keys(differences).map((n) => `${n} differs`), ...files.filter((f) => !f.ok).map((f) => `${f.name}: ${f.problem}`)];
      this.logger.warn(`${table.name} ${day}: verification MISMATCH${row.partial ? ' (partial day: events arrived since the export)' : ''}: ${what.filter(Boolean).join('; ')}`);
    }
    return { table: table.name, state: ok ? 'verified' : 'mismatch', verification };
  }

  private async checkFiles(table: string, day: string, files: Array<{ name: string; sha256: string }>): Promise<FileCheck[]> {
    const folder = dayFolder(this.config.EXPORT_DIR, table, day);
    const out: FileCheck[] = [];
    for (const file of files) {
      const path = join(folder, file.name);
      const exists = await stat(path).then(
        () => true,
        () => false,
      );
      if (!exists) out.push({ name: file.name, ok: false, problem: 'missing' });
      else if ((await sha256Of(path)) !== file.sha256) out.push({ name: file.name, ok: false, problem: 'sha256 differs from the manifest' });
      else out.push({ name: file.name, ok: true });
    }
    return out;
  }
}
