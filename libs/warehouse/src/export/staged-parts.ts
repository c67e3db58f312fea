import { FileHandle, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExportColumn } from './export-columns';
import { partName } from './manifest';
import type { ParquetWriter } from './parquet-writer';

/** Bytes of lines gathered before one write to the staging file. */
const WRITE_BYTES = 1 << 20;
const NEWLINE = 0x0a;

/**
 * Cuts a stream of lines into part files: lines go to a staging file until EXPORT_PART_ROWS, then
 * DuckDB turns that file into part-NNNN.parquet while the next part is being staged. At most one
 * conversion runs and one staging file fills at a time, so memory and disk stay bounded. Lines are
 * copied as bytes into one reused buffer, so the stream allocates nothing per row on the V8 heap.
 */
export class StagedParts {
  private readonly pending = Buffer.allocUnsafe(WRITE_BYTES);
  private pendingBytes = 0;
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
  readonly push = (line: Buffer): true | Promise<void> => {
    this.rowsInPart++;
    if (this.pendingBytes + line.length + 1 > WRITE_BYTES) return this.flushWith(line);
    this.append(line);
    if (this.rowsInPart >= this.partRows) return this.closePart();
    return true;
  };

  /** Converts what is staged and waits for every conversion; returns the parts in order. */
  async finish(): Promise<Array<{ name: string; rows: number }>> {
    if (this.rowsInPart > 0) await this.closePart();
    await this.converting;
    return this.parts;
  }

  private append(line: Buffer): void {
    line.copy(this.pending, this.pendingBytes);
    this.pending[this.pendingBytes + line.length] = NEWLINE;
    this.pendingBytes += line.length + 1;
  }

  /** Writes what is gathered, then takes `line` (written at once if it alone outgrows the buffer). */
  private async flushWith(line: Buffer): Promise<void> {
    await this.flush();
    if (line.length + 1 > WRITE_BYTES) await this.file!.write(Buffer.concat([line, Buffer.from([NEWLINE])]));
    else this.append(line);
    if (this.rowsInPart >= this.partRows) await this.closePart();
  }

  private async flush(): Promise<void> {
    this.file ??= await open(this.stagedPath(this.parts.length), 'w');
    let written = 0;
    while (written < this.pendingBytes) written += (await this.file.write(this.pending, written, this.pendingBytes - written)).bytesWritten;
    this.pendingBytes = 0;
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
