export interface GroupCommitOptions {
  /** Flush as soon as this many items are waiting. */
  maxItems: number;
  /**
   * Longest an item waits for company before its batch is flushed, in ms. 0 waits only for the end of
   * the current event-loop turn (setImmediate): the submissions of every request read in that turn
   * share a flush, at no added latency when the process is idle.
   */
  maxDelayMs: number;
  /** Batches being written at once (each holds one database connection). */
  maxInFlight: number;
  /** Items allowed to wait before new submissions are refused (back-pressure). */
  maxPendingItems: number;
  /**
   * Longest a submission may wait for a flush slot, in ms: one still waiting then (every slot held by
   * a dependency that has stopped answering) is refused instead of waiting behind the whole queue.
   */
  maxWaitMs: number;
  /** What is batched, for the refusal's message ("<what> is overloaded (...)"). */
  what: string;
}

interface Submission<I, R> {
  items: I[];
  resolve: (results: R[]) => void;
  reject: (err: unknown) => void;
  submittedAt: number;
}

export class GroupCommitOverloadedError extends Error {
  constructor(what: string, detail: string) {
    super(`${what} is overloaded (${detail})`);
    this.name = 'GroupCommitOverloadedError';
  }
}

/**
 * Group commit: concurrent submissions wait a few ms (or until `maxItems` are waiting), then ONE call
 * of `flush` writes them all and each submission gets its own slice of the results. A submission is
 * never split across flushes, so items of one request share one transaction. While every flush slot
 * is busy, submissions accumulate and go out together when one frees up, so batches grow with load.
 */
export class GroupCommitter<I, R> {
  private pending: Array<Submission<I, R>> = [];
  private pendingItems = 0;
  private inFlight = 0;
  private timer?: NodeJS.Timeout;
  private immediate?: NodeJS.Immediate;

  constructor(
    private readonly flush: (items: I[]) => Promise<R[]>,
    private readonly options: GroupCommitOptions,
    private readonly onBatch?: (size: number) => void,
  ) {}

  submit(items: I[]): Promise<R[]> {
    if (items.length === 0) return Promise.resolve([]);
    if (this.pendingItems + items.length > this.options.maxPendingItems) return Promise.reject(new GroupCommitOverloadedError(this.options.what, `${this.pendingItems} waiting`));
    return new Promise<R[]>((resolve, reject) => {
      this.pending.push({ items, resolve, reject, submittedAt: Date.now() });
      this.pendingItems += items.length;
      this.schedule();
    });
  }

  /** Items waiting for a flush slot (not counting those being written). */
  get waiting(): number {
    return this.pendingItems;
  }

  private schedule(): void {
    if (this.pending.length === 0 || this.inFlight >= this.options.maxInFlight) return;
    if (this.pendingItems >= this.options.maxItems) {
      this.startFlush();
      return;
    }
    if (this.options.maxDelayMs === 0) {
      this.immediate ??= setImmediate(() => {
        this.immediate = undefined;
        this.startFlush();
      });
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.startFlush();
    }, this.options.maxDelayMs);
  }

  private startFlush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.immediate) {
      clearImmediate(this.immediate);
      this.immediate = undefined;
    }
    if (this.pending.length === 0 || this.inFlight >= this.options.maxInFlight) return;
    this.refuseExpired();
    if (this.pending.length === 0) return;
    const batch: Array<Submission<I, R>> = [];
    let size = 0;
    while (this.pending.length > 0 && (batch.length === 0 || size + this.pending[0].items.length <= this.options.maxItems)) {
      const next = this.pending.shift()!;
      batch.push(next);
      size += next.items.length;
    }
    this.pendingItems -= size;
    this.inFlight++;
    this.onBatch?.(size);
    const items = batch.length === 1 ? batch[0].items : batch.flatMap((s) => s.items);
    this.flush(items)
      .then(
        (results) => {
          if (results.length !== size) throw new Error(`flush returned ${results.length} results for ${size} items`);
          let offset = 0;
          for (const s of batch) {
            s.resolve(results.slice(offset, offset + s.items.length));
            offset += s.items.length;
          }
        },
        (err: unknown) => {
          for (const s of batch) s.reject(err);
        },
      )
      .catch((err: unknown) => {
        for (const s of batch) s.reject(err);
      })
      .finally(() => {
        this.inFlight--;
        // What accumulated meanwhile goes out at once: it has already waited at least one commit.
        if (this.pending.length > 0 && this.inFlight < this.options.maxInFlight) this.startFlush();
        else this.schedule();
      });
  }

  private refuseExpired(): void {
    const oldest = Date.now() - this.options.maxWaitMs;
    while (this.pending.length > 0 && this.pending[0].submittedAt < oldest) {
      const expired = this.pending.shift()!;
      this.pendingItems -= expired.items.length;
      expired.reject(new GroupCommitOverloadedError(this.options.what, `no slot within ${this.options.maxWaitMs} ms`));
    }
  }
}
