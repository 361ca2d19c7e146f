import type { ControlledTransaction, Kysely } from "kysely";
import type { Schema } from "./schema.js";

type Work<T> = (trx: Kysely<Schema>) => Promise<T>;

interface Pending {
  work: Work<unknown>;
  /** Times it was put back for SQLITE_BUSY (see runBatch). */
  retries: number;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

const MAX_BUSY_RETRIES = 100;
const BUSY_RETRY_DELAY_MS = 2;

function lockBusy(error: unknown): boolean {
  return typeof (error as { code?: unknown }).code === "string" && (error as { code: string }).code.startsWith("SQLITE_BUSY");
}

/**
 * Group commit for SQLite: attempts that queue up while a transaction runs are run together in the next
 * one, each inside its own savepoint (so one attempt's failure undoes only its own writes), and all are
 * answered only after that transaction commits. A commit (and the WAL pages it writes) is the largest
 * cost of a validation; SQLite serialises writers anyway, so batching them loses no concurrency.
 */
export class GroupCommit {
  private readonly queue: Pending[] = [];
  private draining = false;

  constructor(
    private readonly db: Kysely<Schema>,
    private readonly committed: (size: number) => void = () => undefined,
    private readonly maxBatch = 64,
  ) {}

  run<T>(work: Work<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, retries: 0, resolve: resolve as (value: unknown) => void, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const retried = await this.runBatch(this.queue.splice(0, this.maxBatch));
        if (retried.length === 0) continue;
        // Give the checkpointer's RESTART the moment it needs, then run them first in a fresh transaction.
        await new Promise((resolve) => setTimeout(resolve, BUSY_RETRY_DELAY_MS));
        this.queue.unshift(...retried);
      }
    } finally {
      this.draining = false;
    }
  }

  /** Runs `batch` in one transaction; returns the attempts put back because the write lock was busy. */
  private async runBatch(batch: Pending[]): Promise<Pending[]> {
    let trx: ControlledTransaction<Schema>;
    try {
      trx = await this.db.startTransaction().execute();
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return [];
    }
    const outcomes: { pending: Pending; ok: boolean; value: unknown }[] = [];
    const retried: Pending[] = [];
    try {
      for (const pending of batch) {
        const attempt = await trx.savepoint("attempt").execute();
        try {
          const value = await pending.work(attempt);
          await attempt.releaseSavepoint("attempt").execute();
          outcomes.push({ pending, ok: true, value });
        } catch (error) {
          await attempt.rollbackToSavepoint("attempt").execute();
          await attempt.releaseSavepoint("attempt").execute();
          // A read-then-write attempt whose snapshot cannot take the write lock (the checkpointer's
          // RESTART holds it) fails at once with nothing written: run it again in the next transaction
          // instead of answering a 500.
          if (lockBusy(error) && pending.retries < MAX_BUSY_RETRIES) {
            pending.retries++;
            retried.push(pending);
          } else outcomes.push({ pending, ok: false, value: error });
        }
      }
      await trx.commit().execute();
      this.committed(batch.length);
    } catch (error) {
      await trx.rollback().execute().catch(() => undefined);
      for (const pending of batch) pending.reject(error);
      return [];
    }
    for (const { pending, ok, value } of outcomes) (ok ? pending.resolve : pending.reject)(value);
    return retried;
  }
}
