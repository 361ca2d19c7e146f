/**
 * RFC 5080 §2.2.2 duplicate detection: a request with the same source address and port, identifier and
 * Request Authenticator seen within `lifetimeMs` is a retransmission. It gets the reply sent the first
 * time (or nothing while that one is still being decided), so a NAS retry never consumes a code or
 * counts as a failure twice.
 */
export class DuplicateCache {
  /** Insertion order is arrival order, so expired entries are always at the front. */
  private readonly entries = new Map<string, { expiresAt: number; reply: Buffer | null }>();

  constructor(
    private readonly lifetimeMs = 30_000,
    /** Bounds memory under a flood; past it the oldest entries go first. */
    private readonly capacity = 100_000,
  ) {}

  static key(address: string, port: number, identifier: number, authenticator: Buffer): string {
    return `${address}|${port}|${identifier}|${authenticator.toString("hex")}`;
  }

  /** `pending` while the first copy is being decided, the cached reply, or `new` (and now pending). */
  claim(key: string, now: number): { kind: "new" } | { kind: "pending" } | { kind: "reply"; reply: Buffer } {
    this.expire(now);
    const entry = this.entries.get(key);
    if (entry) return entry.reply === null ? { kind: "pending" } : { kind: "reply", reply: entry.reply };
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { expiresAt: now + this.lifetimeMs, reply: null });
    return { kind: "new" };
  }

  /** Records the reply for a claimed request. */
  complete(key: string, reply: Buffer): void {
    const entry = this.entries.get(key);
    if (entry) entry.reply = reply;
  }

  /** Forgets a claimed request that got no reply (dropped), so a retry is looked at afresh. */
  release(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  private expire(now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now) return;
      this.entries.delete(key);
    }
  }
}
