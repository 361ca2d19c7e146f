import type BetterSqlite3 from "better-sqlite3";
import type { ControlledTransaction, Kysely } from "kysely";
import type { Schema } from "./schema.js";

/** A unit of work: Kysely queries, or better-sqlite3 statements run synchronously on the same connection. */
type Work = { kind: "async"; run(trx: Kysely<Schema>): Promise<unknown> } | { kind: "sync"; run(): unknown };

interface Pending {
  work: Work;
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
 * The hot path's work is synchronous (prepared statements, sqlite-attempts.ts): a batch of it runs in
 * one go, with nothing else interleaved on the connection.
 */
export class GroupCommit {
  private readonly queue: Pending[] = [];
  private draining = false;
  private statements: Record<"begin" | "commit" | "rollback" | "savepoint" | "release" | "rollbackTo", BetterSqlite3.Statement> | undefined;

  constructor(
    private readonly db: Kysely<Schema>,
    private readonly connection: BetterSqlite3.Database,
    /** After each commit; a promise it returns holds the next batch back until it settles (never rejects). */
    private readonly committed: (size: number) => void | Promise<void> = () => undefined,
    private readonly maxBatch = 64,
  ) {}

  run<T>(work: (trx: Kysely<Schema>) => Promise<T>): Promise<T> {
    return this.enqueue({ kind: "async", run: work });
  }

  /** `work` runs statements on the connection itself, inside the batch's transaction. */
  runSync<T>(work: () => T): Promise<T> {
    return this.enqueue({ kind: "sync", run: work });
  }

  private enqueue<T>(work: Work): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, retries: 0, resolve: resolve as (value: unknown) => void, reject });
      // After the current I/O callbacks: the requests that arrived together share one transaction.
      if (!this.draining) {
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
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
    const sql = (this.statements ??= {
      begin: this.connection.prepare("BEGIN"),
      commit: this.connection.prepare("COMMIT"),
      rollback: this.connection.prepare("ROLLBACK"),
      savepoint: this.connection.prepare("SAVEPOINT attempt"),
      release: this.connection.prepare("RELEASE attempt"),
      rollbackTo: this.connection.prepare("ROLLBACK TO attempt"),
    });
    // The hot path's batches await nothing: the whole transaction runs in one go, nothing else can run on
    // the connection meanwhile, and it needs no Kysely around it. Otherwise through Kysely, which then
    // holds the connection, so no other Kysely query runs inside the batch. While a transaction opened
    // directly through Kysely is open, a BEGIN of our own would fail (or, unchecked, join it): the Kysely
    // way then waits for it to end.
    const synchronous = !this.connection.inTransaction && batch.every((pending) => pending.work.kind === "sync");
    let trx: ControlledTransaction<Schema> | undefined;
    try {
      if (synchronous) sql.begin.run();
      else trx = await this.db.startTransaction().execute();
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return [];
    }
    const outcomes: { pending: Pending; ok: boolean; value: unknown }[] = [];
    const retried: Pending[] = [];
    let afterCommit: void | Promise<void>;
    try {
      for (const pending of batch) {
        sql.savepoint.run();
        try {
          const { work } = pending;
          const value = work.kind === "sync" ? work.run() : await work.run(trx!);
          sql.release.run();
          outcomes.push({ pending, ok: true, value });
        } catch (error) {
          sql.rollbackTo.run();
          sql.release.run();
          // A read-then-write attempt whose snapshot cannot take the write lock (the checkpointer's
          // RESTART holds it) fails at once with nothing written: run it again in the next transaction
          // instead of answering a 500.
          if (lockBusy(error) && pending.retries < MAX_BUSY_RETRIES) {
            pending.retries++;
            retried.push(pending);
          } else outcomes.push({ pending, ok: false, value: error });
        }
      }
      if (trx) await trx.commit().execute();
      else sql.commit.run();
      afterCommit = this.committed(batch.length);
    } catch (error) {
      if (trx) await trx.rollback().execute().catch(() => undefined);
      else if (this.connection.inTransaction) {
        try {
          sql.rollback.run();
        } catch {
          // The batch's own error is the one to report.
        }
      }
      for (const pending of batch) pending.reject(error);
      return [];
    }
    for (const { pending, ok, value } of outcomes) (ok ? pending.resolve : pending.reject)(value);
    // Answered first; the next batch waits. (Only then: an await costs the hot path a turn per batch.)
    if (afterCommit) await afterCommit;
    return retried;
  }
}
