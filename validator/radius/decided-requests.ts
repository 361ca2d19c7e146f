import { ExpiringMap } from "./expiring-map.js";

/**
 * The Request Authenticators each client's requests were decided with, remembered for a day (bounded):
 * a request that comes again from another port, or after the RFC 5080 window, is a replay, not a
 * retransmission. A Request Authenticator is unique per request (RFC 2865 §3) and covered by the
 * Message-Authenticator, so only someone replaying a captured datagram sends one twice.
 */
export class DecidedRequests {
  private readonly seen: ExpiringMap<true>;

  constructor(
    lifetimeMs = 24 * 3_600_000,
    /** Bounds memory (~100 bytes an entry); past it the oldest go first. */
    capacity = 200_000,
  ) {
    this.seen = new ExpiringMap(lifetimeMs, capacity);
  }

  /** True the first time `authenticator` comes from `client` (which is then remembered), false on a replay. */
  first(client: string, authenticator: Buffer, now: number): boolean {
    const key = DecidedRequests.key(client, authenticator);
    this.seen.expire(now);
    if (this.seen.get(key)) return false;
    this.seen.add(key, true, now);
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
}
