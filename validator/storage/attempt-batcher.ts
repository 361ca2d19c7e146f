/**
 * Gathers attempts into batches that share one transaction (postgres-attempts.ts), the way SQLite's group
 * commit does, but with several batches in flight: a database server decides on its cores in parallel.
 *
 * An attempt starts at once while fewer than `maxInFlight` batches run; under load the attempts that
 * arrive meanwhile wait and leave together in the next batch, so the round trips and the commit are
 * shared. A user is in at most one batch in flight, with at most one attempt: a user's attempts are
 * decided one after the other, in arrival order, and a batch never waits for a lock another batch of
 * this process holds.
 */
export class AttemptBatcher<Item extends { user: string }> {
  private waiting: Item[] = [];
  private readonly usersInFlight = new Set<string>();
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly runBatch: (batch: Item[]) => Promise<void>,
    private readonly maxInFlight: number,
    private readonly maxBatch: number,
  ) {}

  add(item: Item): void {
    this.waiting.push(item);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.waiting.length === 0) return;
    this.scheduled = true;
    // After the current I/O callbacks: the attempts that arrived together leave together.
    setImmediate(() => {
      this.scheduled = false;
      this.start();
    });
  }

  private start(): void {
    const batch = this.take();
    if (batch.length === 0) return;
    this.inFlight++;
    for (const item of batch) this.usersInFlight.add(item.user);
    void this.runBatch(batch).finally(() => {
      this.inFlight--;
      for (const item of batch) this.usersInFlight.delete(item.user);
      this.schedule();
    });
    this.schedule();
  }

  /** The oldest waiting attempts of users not in flight, one per user, in arrival order. */
  private take(): Item[] {
    const batch: Item[] = [];
    const taken = new Set<string>();
    const left: Item[] = [];
    for (const item of this.waiting) {
      if (batch.length < this.maxBatch && !taken.has(item.user) && !this.usersInFlight.has(item.user)) {
        taken.add(item.user);
        batch.push(item);
      } else left.push(item);
    }
    this.waiting = left;
    return batch;
  }
}
