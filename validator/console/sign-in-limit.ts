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

/**
 * Failed sign-ins per source (sourceBlock) in a sliding window, on top of the per-user lockout: one
 * source trying many identifiers would otherwise lock out the whole help desk before anyone noticed.
 * Kept in memory: with several instances, each counts its own.
 */
export class SignInLimit {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly attempts: number,
    private readonly windowSeconds: number,
  ) {}

  blocked(address: string, now: number): boolean {
    return this.recent(sourceBlock(address), now).length >= this.attempts;
  }

  /** Counts a failure; true when this one reaches the limit (the moment worth auditing). */
  recordFailure(address: string, now: number): boolean {
    const source = sourceBlock(address);
    const recent = this.recent(source, now);
    recent.push(now);
    this.failures.set(source, recent);
    if (this.failures.size > 10_000) this.prune(now);
    return recent.length === this.attempts;
  }

  private recent(address: string, now: number): number[] {
    return (this.failures.get(address) ?? []).filter((at) => at > now - this.windowSeconds * 1000);
  }

  private prune(now: number): void {
    for (const address of this.failures.keys()) {
      if (this.recent(address, now).length === 0) this.failures.delete(address);
    }
  }
}
