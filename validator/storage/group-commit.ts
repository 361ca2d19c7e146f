import type { ControlledTransaction, Kysely } from "kysely";
import type { Schema } from "./schema.js";

type Work<T> = (trx: Kysely<Schema>) => Promise<T>;

interface Pending {
  work: Work<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
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
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) await this.runBatch(this.queue.splice(0, this.maxBatch));
    } finally {
      this.draining = false;
    }
  }

  private async runBatch(batch: Pending[]): Promise<void> {
    let trx: ControlledTransaction<Schema>;
    try {
      trx = await this.db.startTransaction().execute();
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    const outcomes: { pending: Pending; ok: boolean; value: unknown }[] = [];
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
          outcomes.push({ pending, ok: false, value: error });
        }
      }
      await trx.commit().execute();
      this.committed(batch.length);
    } catch (error) {
      await trx.rollback().execute().catch(() => undefined);
      for (const pending of batch) pending.reject(error);
      return;
    }
    for (const { pending, ok, value } of outcomes) (ok ? pending.resolve : pending.reject)(value);
  }
}
