/**
 * The Request Authenticators each client's requests were decided with, remembered for a day (bounded):
 * a request that comes again from another port, or after the RFC 5080 window, is a replay, not a
 * retransmission. A Request Authenticator is unique per request (RFC 2865 §3) and covered by the
 * Message-Authenticator, so only someone replaying a captured datagram sends one twice.
 */
export class DecidedRequests {
  /** Insertion order is arrival order, so expired entries are always at the front. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly lifetimeMs = 24 * 3_600_000,
    /** Bounds memory (~100 bytes an entry); past it the oldest go first. */
    private readonly capacity = 200_000,
  ) {}

  /** True the first time `authenticator` comes from `client` (which is then remembered), false on a replay. */
  first(client: string, authenticator: Buffer, now: number): boolean {
    this.expire(now);
    const key = DecidedRequests.key(client, authenticator);
    if (this.seen.has(key)) return false;
    if (this.seen.size >= this.capacity) this.seen.delete(this.seen.keys().next().value!);
    this.seen.set(key, now + this.lifetimeMs);
    return true;
  }

  /** Forgets a request that was dropped undecided, so the client's retry is looked at afresh. */
  forget(client: string, authenticator: Buffer): void {
    this.seen.delete(DecidedRequests.key(client, authenticator));
  }

  get size(): number {
    return this.seen.size;
  }

  private static key(client: string, authenticator: Buffer): string {
    return `${client}\0${authenticator.toString("base64")}`;
  }

  private expire(now: number): void {
    for (const [key, expiresAt] of this.seen) {
      if (expiresAt > now) return;
      this.seen.delete(key);
    }
  }
}
