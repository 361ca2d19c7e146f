/**
 * Failed sign-ins per source address in a sliding window, on top of the per-user lockout: one address
 * trying many identifiers would otherwise lock out the whole help desk before anyone noticed.
 */
export class SignInLimit {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly attempts: number,
    private readonly windowSeconds: number,
  ) {}

  blocked(address: string, now: number): boolean {
    return this.recent(address, now).length >= this.attempts;
  }

  /** Counts a failure; true when this one reaches the limit (the moment worth auditing). */
  recordFailure(address: string, now: number): boolean {
    const recent = this.recent(address, now);
    recent.push(now);
    this.failures.set(address, recent);
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
