/**
 * Remembers strings for a while, at most `maxEntries` of them: past that, the oldest go first. For
 * caches of negative answers that anyone can fill (unknown API keys), where memory must stay bounded.
 */
export class BoundedTtlSet {
  // A Map iterates in insertion order: its first entry is the oldest.
  private readonly entries = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  has(value: string): boolean {
    const expiresAt = this.entries.get(value);
    if (expiresAt === undefined) return false;
    if (expiresAt > this.now()) return true;
    this.entries.delete(value);
    return false;
  }

  add(value: string): void {
    if (this.ttlMs <= 0) return;
    this.entries.delete(value);
    while (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(value, this.now() + this.ttlMs);
  }

  delete(value: string): void {
    this.entries.delete(value);
  }
}
