import { FileHandle, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExportColumn } from './export-columns';
import { partName } from './manifest';
import type { ParquetWriter } from './parquet-writer';

/** Lines written to the staging file per write call. */
const LINES_PER_WRITE = 8192;

/**
 * Cuts a stream of lines into part files: lines go to a staging file until EXPORT_PART_ROWS, then
 * DuckDB turns that file into part-NNNN.parquet while the next part is being staged. At most one
 * conversion runs and one staging file fills at a time, so memory and disk stay bounded.
 */
export class StagedParts {
  private buffer: string[] = [];
  private file?: FileHandle;
  private rowsInPart = 0;
  private converting: Promise<void> = Promise.resolve();
  readonly parts: Array<{ name: string; rows: number }> = [];

  constructor(
    private readonly dir: string,
    private readonly partRows: number,
    private readonly writer: ParquetWriter,
    private readonly columns: readonly ExportColumn[],
  ) {}

  /** The LineSink: true, or a promise while a write (or a conversion a full part waits for) goes on. */
  readonly push = (line: string): true | Promise<void> => {
    this.buffer.push(line);
    this.rowsInPart++;
    if (this.rowsInPart >= this.partRows) return this.closePart();
    if (this.buffer.length >= LINES_PER_WRITE) return this.flush();
    return true;
  };

  /** Converts what is staged and waits for every conversion; returns the parts in order. */
  async finish(): Promise<Array<{ name: string; rows: number }>> {
    if (this.rowsInPart > 0) await this.closePart();
    await this.converting;
    return this.parts;
  }

  private async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    this.file ??= await open(this.stagedPath(this.parts.length), 'w');
    const text = this.buffer.join('\n') + '\n';
    this.buffer = [];
    await this.file.write(text);
  }

  private async closePart(): Promise<void> {
    await this.flush();
    await this.file!.close();
    this.file = undefined;
    const index = this.parts.length;
    const rows = this.rowsInPart;
    this.rowsInPart = 0;
    const part = { name: partName(index), rows };
    this.parts.push(part);
    // The previous part must be written before this one starts: one conversion at a time.
    await this.converting;
    this.converting = this.convert(index, rows);
    // An error surfaces on the next push or at finish.
    this.converting.catch(() => undefined);
  }

  private async convert(index: number, rows: number): Promise<void> {
    const staged = this.stagedPath(index);
    const written = await this.writer.write(staged, this.columns, join(this.dir, partName(index)));
    if (written !== rows) throw new Error(`part ${index}: ${rows} rows streamed but ${written} written to Parquet`);
    await unlink(staged);
  }

  private stagedPath(index: number): string {
    return join(this.dir, `.staged-${index}.tsv`);
  }
}
