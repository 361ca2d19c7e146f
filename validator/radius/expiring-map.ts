/**
 * A map whose entries all live equally long, bounded in count: insertion order is then expiry order, so
 * expired entries are always at the front and dropping them (or the oldest, past `capacity`) costs only
 * what is dropped. `removed` hears of every entry that leaves, whatever the reason.
 */
export class ExpiringMap<V> {
  private readonly entries = new Map<string, { expiresAt: number; value: V }>();

  constructor(
    private readonly lifetimeMs: number,
    private readonly capacity: number,
    private readonly removed: (value: V) => void = () => undefined,
  ) {}

  /** The value under `key`, unless it was dropped (call `expire` first to drop what expired). */
  get(key: string): V | undefined {
    return this.entries.get(key)?.value;
  }

  /** Adds an entry living from `now` (the key must be absent); past `capacity` the oldest goes first. */
  add(key: string, value: V, now: number): void {
    if (this.entries.size >= this.capacity) this.dropOldest();
    this.entries.set(key, { expiresAt: now + this.lifetimeMs, value });
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.removed(entry.value);
  }

  dropOldest(): void {
    const oldest = this.entries.keys().next();
    if (!oldest.done) this.delete(oldest.value);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Drops the entries expired by `now`. */
  expire(now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now) return;
      this.delete(key);
    }
  }
}
