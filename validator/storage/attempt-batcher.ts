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
  /** Waiting attempts by user, each user's in arrival order; users in the order they will be served. */
  private readonly waiting = new Map<string, Item[]>();
  private readonly usersInFlight = new Set<string>();
  private inFlight = 0;
  private scheduled = false;

  constructor(
    /** Settles every attempt of the batch and never throws (postgres-attempts.ts answers each attempt). */
    private readonly runBatch: (batch: Item[]) => Promise<void>,
    private readonly maxInFlight: number,
    private readonly maxBatch: number,
  ) {}

  add(item: Item): void {
    const queue = this.waiting.get(item.user);
    if (queue) queue.push(item);
    else this.waiting.set(item.user, [item]);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.waiting.size === 0) return;
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

  /**
   * The oldest waiting attempt of each user not in flight. Looks at no more users than are in flight
   * plus a batch, however many attempts one user has waiting; a user served goes to the back of the line.
   */
  private take(): Item[] {
    const batch: Item[] = [];
    const stillWaiting: [string, Item[]][] = [];
    for (const [user, queue] of this.waiting) {
      if (batch.length >= this.maxBatch) break;
      if (this.usersInFlight.has(user)) continue;
      batch.push(queue.shift()!);
      this.waiting.delete(user);
      if (queue.length > 0) stillWaiting.push([user, queue]);
    }
    // After the loop: a user put back during it would be met again.
    for (const [user, queue] of stillWaiting) this.waiting.set(user, queue);
    return batch;
  }
}
