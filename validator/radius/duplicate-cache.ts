import { hash } from "node:crypto";
import { ExpiringMap } from "./expiring-map.js";

/**
 * RFC 5080 §2.2.2 duplicate detection: a request with the same source address and port, identifier and
 * Request Authenticator seen within `lifetimeMs` is a retransmission. It gets the reply sent the first
 * time (or nothing while that one is still being decided), so a NAS retry never consumes a code or
 * counts as a failure twice.
 */
export class DuplicateCache {
  private readonly entries: ExpiringMap<{ request: string; reply: Buffer | null }>;

  /** Bytes of the replies held. */
  private bytes = 0;

  constructor(
    lifetimeMs = 30_000,
    /** Bounds memory under a flood; past either bound the oldest entries go first. */
    capacity = 100_000,
    /** Replies echo up to ~3 KB of Proxy-State each, so entries alone do not bound memory. */
    private readonly maxBytes = 32 << 20,
  ) {
    this.entries = new ExpiringMap(lifetimeMs, capacity, (entry) => (this.bytes -= entry.reply?.length ?? 0));
  }

  static key(address: string, port: number, identifier: number, authenticator: Buffer): string {
    return `${address}|${port}|${identifier}|${authenticator.toString("hex")}`;
  }

  /**
   * `pending` while the first copy is being decided, the cached reply, or `new` (and now pending).
   * `request` is a digest of the whole datagram: a different request under the same key (a NAS that
   * reused its Request Authenticator) is a `mismatch`, never given another request's reply.
   */
  claim(key: string, now: number, request: string): { kind: "new" } | { kind: "pending" } | { kind: "mismatch" } | { kind: "reply"; reply: Buffer } {
    this.entries.expire(now);
    const entry = this.entries.get(key);
    if (entry) {
      if (entry.request !== request) return { kind: "mismatch" };
      return entry.reply === null ? { kind: "pending" } : { kind: "reply", reply: entry.reply };
    }
    this.entries.add(key, { request, reply: null }, now);
    return { kind: "new" };
  }

  /** The digest `claim` compares. */
  static digest(datagram: Buffer): string {
    return hash("sha256", datagram, "base64");
  }

  /**
   * Records the reply for a claimed request: a copy of its own, since the reply may be a slice of a
   * larger pooled buffer that would otherwise stay alive with it.
   */
  complete(key: string, reply: Buffer): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    const held = Buffer.allocUnsafeSlow(reply.length);
    reply.copy(held);
    entry.reply = held;
    this.bytes += held.length;
    while (this.bytes > this.maxBytes) this.entries.dropOldest();
  }

  /** Forgets a claimed request that got no reply (dropped), so a retry is looked at afresh. */
  release(key: string): void {
    this.entries.delete(key);
  }

  /** Bytes of the replies held. */
  get heldBytes(): number {
    return this.bytes;
  }

  get size(): number {
    return this.entries.size;
  }
}
