import BetterSqlite3 from "better-sqlite3";
import { statSync } from "node:fs";
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from "kysely";
import pg from "pg";
import type { AttemptStore } from "./attempt-store.js";
import { connectionLost } from "./connection-lost.js";
import { GroupCommit } from "./group-commit.js";
import { MAX_BATCHES_IN_FLIGHT, postgresAttemptStore, type RetryOnLostConnection } from "./postgres-attempts.js";
import { sqliteAttemptStore } from "./sqlite-attempts.js";
import { migrationProvider } from "./migrations.js";
import { createPrivateFile, refuseSharedSqliteFiles } from "./private-files.js";
import type { Schema } from "./schema.js";

export type Dialect = "sqlite" | "postgres";

export interface Database {
  db: Kysely<Schema>;
  dialect: Dialect;
  /**
   * Runs `work` atomically. On SQLite, concurrent calls share one commit (group-commit.ts); on
   * PostgreSQL each is its own transaction, retried while its pooled connection turns out closed.
   */
  transaction<T>(work: (trx: Kysely<Schema>) => Promise<T>): Promise<T>;
  /** The validation hot path: prepared statements, one atomic unit per attempt (attempt-store.ts). */
  attempts: AttemptStore;
  /** Human description without credentials, for start-up messages. */
  description: string;
  close(): Promise<void>;
}

/** What storage reports as it works (counted by validator/observability/metrics.ts). */
export interface StorageEvents {
  /** a PostgreSQL transaction is run again on a fresh connection */
  transactionRetried?(): void;
  /** a transaction failed and was rolled back */
  transactionFailed?(): void;
  /** this many attempts were committed together (a SQLite group commit, a PostgreSQL attempt batch) */
  groupCommitted?(size: number): void;
}

export type DatabaseLocation = { kind: "sqlite"; file: string } | { kind: "postgres"; url: string };

const INT8_OID = 20;
const POOL_SIZE = 10;
/** A database that does not take a connection within this fails the work instead of queueing it for ever. */
const CONNECT_TIMEOUT_MS = 10_000;
/**
 * How long a batch of attempts waits for a user's row that another transaction holds (an administrative
 * one left open, say) before it gives up and its attempts run alone, so one held user stalls only its own.
 */
const ATTEMPT_LOCK_TIMEOUT_MS = 5_000;

/** Opens the database and brings its schema up to date (idempotent; safe with several instances). */
export async function openDatabase(location: DatabaseLocation, events: StorageEvents = {}): Promise<Database> {
  // Kysely locks PostgreSQL migrations itself (an advisory lock), SQLite ones not at all. On SQLite the lock
  // is taken before the file is opened: a restore holds it from its in-use check to its rename, so an
  // instance starting meanwhile opens the restored database, never the one moved aside (an attacker
  // review had two instances serve the two files and accept one code twice).
  const lock = location.kind === "sqlite" ? await migrationLock(location.file) : null;
  let database: Database;
  try {
    database = location.kind === "sqlite" ? openSqlite(location.file, events) : openPostgres(location.url, events);
  } catch (error) {
    lock?.close();
    throw error;
  }
  try {
    const { error, results } = await new Migrator({
      db: database.db,
      provider: migrationProvider(database.dialect),
    }).migrateToLatest();
    if (error) {
      const failed = results?.find((result) => result.status === "Error")?.migrationName ?? "unknown";
      throw new Error(`database migration ${failed} failed: ${(error as Error).message}`);
    }
  } catch (error) {
    await database.close();
    throw error;
  } finally {
    lock?.close();
  }
  return withFailuresReported(database, events);
}

/** How long an instance waits for another one's migrations (an upgrade of a large database takes a while). */
const MIGRATION_LOCK_TIMEOUT_MS = 120_000;
const MIGRATION_LOCK_POLL_MS = 20;
/** The lock file beside an SQLite database (`jeton.sqlite.migrating`): empty, kept. */
export const MIGRATION_LOCK_SUFFIX = ".migrating";

/**
 * Serialises the migrations of processes starting together on one SQLite database (a `jeton serve` and a
 * `jeton keys create`, say): an exclusive lock on a small file beside it, taken through SQLite's own
 * locking, so it is released when its holder ends, however it ends. Whoever comes second waits (polling,
 * so a process opening the database twice does not block itself), then finds every migration done. (The
 * database's own write lock cannot serve: the migrations take it in transactions of their own.)
 */
export async function migrationLock(file: string): Promise<BetterSqlite3.Database> {
  const lockFile = file + MIGRATION_LOCK_SUFFIX;
  createPrivateFile(lockFile);
  const lock = new BetterSqlite3(lockFile, { timeout: 0 });
  const giveUpAt = Date.now() + MIGRATION_LOCK_TIMEOUT_MS;
  for (;;) {
    try {
      lock.exec("BEGIN EXCLUSIVE");
      return lock;
    } catch (error) {
      if (!(error instanceof BetterSqlite3.SqliteError && error.code.startsWith("SQLITE_BUSY")) || Date.now() > giveUpAt) {
        lock.close();
        throw new Error(`cannot take the migration lock ${lockFile}: ${(error as Error).message}`);
      }
      await new Promise((resolve) => setTimeout(resolve, MIGRATION_LOCK_POLL_MS));
    }
  }
}

function withFailuresReported(database: Database, events: StorageEvents): Database {
  const { transaction, attempts } = database;
  const reported = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      events.transactionFailed?.();
      throw error;
    }
  };
  return {
    ...database,
    transaction: (work) => reported(() => transaction(work)),
    attempts: { run: (request, decide) => reported(() => attempts.run(request, decide)) },
  };
}

/**
 * WAL bound. Under saturation new frames arrive while a PASSIVE checkpoint runs, so it never reaches the
 * WAL's end and SQLite never rewinds it (measured: 18 KB per validation, 857 MB after 30 s). Once the WAL
 * holds more than WAL_RESTART_BYTES the checkpointer runs a RESTART checkpoint, which briefly holds the
 * writers back, copies the few frames the PASSIVE ones left and makes the next writer start the WAL from
 * its beginning; journal_size_limit then cuts the file back to that size at the next commit.
 */
const WAL_RESTART_BYTES = 16 * 1024 * 1024;
const CHECKPOINT_INTERVAL_MS = 200;
const BUSY_TIMEOUT_MS = 5000;
/** How often the writer looks at the WAL's size (a syscall): the fastest writes add ~2 MB in that time. */
const WAL_LOOK_INTERVAL_MS = 20;
/** How long the writer holds its batches back, at most, for the WAL to rewind past three times its bound. */
const WAL_REWIND_WAIT_MS = 1000;
const WAL_REWIND_RETRY_MS = 5;

function openSqlite(file: string, events: StorageEvents): Database {
  // 0600 before SQLite sees it: SQLite gives the -wal and -shm files the database file's mode.
  createPrivateFile(file);
  refuseSharedSqliteFiles(file);
  const connection = new BetterSqlite3(file);
  // WAL + NORMAL: no fsync per transaction. A crash of the process loses nothing committed; a power
  // loss may lose the last transactions, never the file's integrity.
  connection.pragma("journal_mode = WAL");
  connection.pragma("synchronous = NORMAL");
  connection.pragma(`journal_size_limit = ${WAL_RESTART_BYTES}`);
  // Checkpoints copy the WAL into the database and fsync it: done on the request path they cost
  // ~100 µs per validation on average and stalls of tens of ms at the p99. A worker thread does them.
  // Backstop: writes that never pause can keep the worker's RESTART from ever getting the lock (seen on
  // a fast, idle machine), so the writer checkpoints itself once the WAL holds twice the worker's bound.
  connection.pragma(`wal_autocheckpoint = ${(2 * WAL_RESTART_BYTES) / (connection.pragma("page_size", { simple: true }) as number)}`);
  const checkpointer = startCheckpointer(file, () => {
    // Without the worker nothing would checkpoint and the WAL would grow for ever: the writer's own
    // automatic checkpoints (slower at the p99, but bounded) take over.
    if (connection.open) connection.pragma("wal_autocheckpoint = 1000");
  });
  connection.pragma("foreign_keys = ON");
  connection.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: withStatementCache(connection) }) });
  /**
   * Last backstop, for a checkpointer starved of CPU (seen on loaded CI machines: 86 – 138 MB): past three
   * times the bound the writer makes the WAL rewind itself, between two batches. A RESTART cannot start
   * while the worker's checkpoint runs (SQLite answers busy at once), and the worker's own RESTART waits
   * for a moment without a writer, which writes that never pause seldom leave it: so the writer stops
   * writing, retrying its RESTART every few milliseconds (the worker's may take that moment instead), for
   * at most WAL_REWIND_WAIT_MS. Batches wait meanwhile; the event loop does not.
   */
  async function rewindWal(): Promise<void> {
    const giveUpAt = Date.now() + WAL_REWIND_WAIT_MS;
    for (;;) {
      try {
        connection.pragma("busy_timeout = 0");
        const [result] = connection.pragma("wal_checkpoint(RESTART)") as { busy: number }[];
        if (result?.busy === 0) return;
      } catch {
        // busy comes back as a row; an error (a transaction of Kysely's open on the connection, say): next try
      } finally {
        connection.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      }
      if (Date.now() >= giveUpAt) return;
      await new Promise((resolve) => setTimeout(resolve, WAL_REWIND_RETRY_MS));
    }
  }
  const walFile = `${file}-wal`;
  let walLookedAt = 0;
  const groupCommit = new GroupCommit(db, connection, (size) => {
    events.groupCommitted?.(size);
    // The WAL's size is looked at every WAL_LOOK_INTERVAL_MS, not after every batch of the hot path.
    // Best effort: the batch is committed, so nothing here may throw into the group commit.
    const now = Date.now();
    if (now - walLookedAt < WAL_LOOK_INTERVAL_MS) return;
    walLookedAt = now;
    if ((statSync(walFile, { throwIfNoEntry: false })?.size ?? 0) <= 3 * WAL_RESTART_BYTES) return;
    return rewindWal();
  });
  return {
    db,
    dialect: "sqlite",
    description: `SQLite ${file}`,
    transaction: (work) => groupCommit.run(work),
    attempts: sqliteAttemptStore(connection, groupCommit),
    async close() {
      await db.destroy();
      await checkpointer.terminate();
    },
  };
}

/**
 * Resolved here, not in the worker: an eval'd worker resolves modules from the process's working
 * directory, so `jeton serve` started from anywhere but the project lost its checkpointer.
 */
const betterSqlitePath = createRequire(import.meta.url).resolve("better-sqlite3");

/**
 * A worker thread with its own connection runs a PASSIVE checkpoint every CHECKPOINT_INTERVAL_MS, which
 * never waits for (nor blocks) the writers, and a RESTART one when the WAL outgrows WAL_RESTART_BYTES.
 * The code is inline so it runs the same from the sources (tests) and from dist/.
 */
function startCheckpointer(file: string, onStopped: () => void): Worker {
  const worker = new Worker(
    `const { workerData } = require("node:worker_threads");
     const Database = require(workerData.betterSqlitePath);
     const connection = new Database(workerData.file);
     connection.pragma("busy_timeout = 1000");
     const frameBytes = connection.pragma("page_size", { simple: true }) + 24;
     setInterval(() => {
       try {
         const [{ log }] = connection.pragma("wal_checkpoint(PASSIVE)");
         if (log * frameBytes > workerData.restartBytes) connection.pragma("wal_checkpoint(RESTART)");
       } catch {}
     }, workerData.intervalMs);`,
    { eval: true, workerData: { file, betterSqlitePath, restartBytes: WAL_RESTART_BYTES, intervalMs: CHECKPOINT_INTERVAL_MS } },
  );
  worker.unref();
  worker.on("error", (error) => {
    process.stderr.write(`jeton: the SQLite checkpointer stopped (${error.message}); the server checkpoints on its own thread instead\n`);
    onStopped();
  });
  return worker;
}

/**
 * Kysely prepares every statement anew; the validate path runs the same few statements again and again,
 * so keep the prepared ones (bounded: bulk inserts produce one-off SQL).
 */
function withStatementCache(connection: BetterSqlite3.Database, capacity = 200) {
  const statements = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => connection.close(),
    prepare(sql: string) {
      let statement = statements.get(sql);
      if (!statement) {
        statement = connection.prepare(sql);
        if (statements.size >= capacity) statements.delete(statements.keys().next().value!);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}

/**
 * A pool of connections with the BIGINT columns (Unix milliseconds and steps, well inside Number's
 * exact range) read as numbers. `pipeline`: queries are sent without waiting for the answer to the
 * previous one (the attempt store batches its statements into two round trips).
 */
function postgresPool(url: string, { pipeline, max, lockTimeoutMs }: { pipeline: boolean; max: number; lockTimeoutMs?: number }): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    pipeline,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    ...(lockTimeoutMs !== undefined && { lock_timeout: lockTimeoutMs }),
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // A connection dropped by the server (restart, failover, admin) emits an error event, idle in the pool
  // or checked out; without a listener that event ends the process. The pool replaces the connection
  // and the work is retried on a fresh one (retryOnLostConnection).
  const connectionClosed = (error: Error) => process.stderr.write(`jeton: a PostgreSQL connection was closed: ${error.message}\n`);
  pool.on("error", connectionClosed);
  pool.on("connect", (client) => client.on("error", connectionClosed));
  return pool;
}

function openPostgres(url: string, events: StorageEvents): Database {
  const pool = postgresPool(url, { pipeline: false, max: POOL_SIZE });
  // The hot path has a pool of its own: long administrative transactions cannot take all of its
  // connections, and Kysely never runs on a pipelined one (where its streamed queries would be refused).
  const attemptPool = postgresPool(url, { pipeline: true, max: MAX_BATCHES_IN_FLIGHT, lockTimeoutMs: ATTEMPT_LOCK_TIMEOUT_MS });
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  const parsed = new URL(url);
  const retryOnLostConnection: RetryOnLostConnection = async (work) => {
    // A pooled connection the server closed (restart, failover) fails on first use and leaves the
    // pool; after a restart every idle one does, so retry up to the pool's size. (If the commit itself
    // was lost, the retry finds its effects or none: a replayed step is refused, never accepted twice.)
    for (let attempt = 0; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        if (!connectionLost(error) || attempt >= POOL_SIZE) throw error;
        events.transactionRetried?.();
      }
    }
  };
  return {
    db,
    dialect: "postgres",
    description: `PostgreSQL ${parsed.host}${parsed.pathname}`,
    transaction: (work) => retryOnLostConnection(() => db.transaction().execute(work)),
    attempts: postgresAttemptStore(attemptPool, retryOnLostConnection, (size) => events.groupCommitted?.(size)),
    async close() {
      await db.destroy();
      await attemptPool.end();
    },
  };
}
