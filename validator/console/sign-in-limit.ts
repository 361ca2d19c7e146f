import { isIPv6 } from "node:net";

/**
 * Where a sign-in comes from, as the limit counts it: an IPv4 address (also written IPv4-mapped), or an
 * IPv6 address's /64, which one host usually holds whole and can hop within at will.
 */
export function sourceBlock(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = "", tail] = address.split("::");
  const groups = (text: string) => (text === "" ? [] : text.split(":"));
  const known = [...groups(head), ...(tail === undefined ? [] : [...Array(8 - groups(head).length - groups(tail).length).fill("0"), ...groups(tail)])];
  return `${known.slice(0, 4).map((group) => group.toLowerCase().replace(/^0+(?=.)/, "")).join(":")}::/64`;
}

/** An attempt counted by `SignInLimit.admit`, until it is forgiven. */
export interface SignInAttempt {
  source: string;
  at: number;
}

/**
 * Failed sign-ins per source (sourceBlock) in a sliding window, on top of the per-user lockout: one
 * source trying many identifiers would otherwise lock out the whole help desk before anyone noticed.
 * An attempt counts from before its passcode is checked, and stops counting once it proves not to be a
 * failure: a burst sent at once cannot all pass the check while the first ones are still being decided.
 * Kept in memory: with several instances, each counts its own.
 */
export class SignInLimit {
  /** Per source: the times of its failures and of its attempts still being checked. */
  private readonly counted = new Map<string, number[]>();
  /** Sources whose reaching the limit was already reported (until they fall below it). */
  private readonly tripped = new Set<string>();

  constructor(
    private readonly attempts: number,
    private readonly windowSeconds: number,
  ) {}

  /** Counts an attempt before it is checked; null when its source is at the limit. */
  admit(address: string, now: number): SignInAttempt | null {
    const source = sourceBlock(address);
    const recent = this.recent(source, now);
    this.counted.set(source, recent);
    if (recent.length >= this.attempts) return null;
    this.tripped.delete(source);
    recent.push(now);
    if (this.counted.size > 10_000) this.prune(now);
    return { source, at: now };
  }

  /** The attempt was no failure (a sign-in, or a challenge to answer next): it no longer counts. */
  forgive(attempt: SignInAttempt): void {
    const recent = this.counted.get(attempt.source) ?? [];
    const index = recent.indexOf(attempt.at);
    if (index >= 0) recent.splice(index, 1);
  }

  /** The attempt failed, and keeps counting; true the first time its source is at the limit (worth auditing). */
  failed(attempt: SignInAttempt, now: number): boolean {
    if (this.recent(attempt.source, now).length < this.attempts || this.tripped.has(attempt.source)) return false;
    this.tripped.add(attempt.source);
    return true;
  }

  private recent(source: string, now: number): number[] {
    return (this.counted.get(source) ?? []).filter((at) => at > now - this.windowSeconds * 1000);
  }

  private prune(now: number): void {
    for (const source of this.counted.keys()) {
      if (this.recent(source, now).length > 0) continue;
      this.counted.delete(source);
      this.tripped.delete(source);
    }
  }
}
