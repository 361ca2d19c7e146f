import BetterSqlite3 from "better-sqlite3";
import { chmodSync, closeSync, copyFileSync, constants, existsSync, linkSync, openSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { MasterKey } from "../secrets/master-key.js";
import { auditRow, INSERT_AUDIT_ROW, type Actor } from "./audit-log.js";
import { checkBackupMac, macFileOf, writeBackupMac } from "./backup-authentication.js";
import { MIGRATION_LOCK_SUFFIX, migrationLock, openDatabase } from "./database.js";
import { schemaDifferences } from "./expected-schema.js";
import { settleRestoredDatabase, type RestoreSettlement } from "./restored-state.js";

/** What a backup or restore found in the copy: SQLite's integrity check passed and the key it needs. */
export interface CopyFacts {
  /** The master key the database is bound to: the copy is useless without that key's file. */
  masterKeyId: string | null;
  pages: number;
}

/**
 * A consistent copy of the live embedded database, taken with SQLite's online backup API on its own
 * connection: it copies a snapshot that includes what is still in the WAL, and a running server keeps
 * validating meanwhile. The copy is created 0600 and never overwrites an existing file; its
 * authentication under `key` is written beside it (`<target>.mac`, backup-authentication.ts).
 */
export async function backupSqlite(source: string, target: string, key: MasterKey): Promise<CopyFacts & { macFile: string }> {
  if (!existsSync(source)) throw new Error(`there is no database at ${source} (is JETON_DATA_DIR right?)`);
  try {
    closeSync(openSync(target, "wx", 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") throw new Error(`${target} already exists: a backup never overwrites a file, choose another name`);
    throw new Error(`cannot create ${target}: ${(error as Error).message}`);
  }
  try {
    const connection = new BetterSqlite3(source, { fileMustExist: true });
    try {
      connection.pragma("busy_timeout = 5000");
      const { totalPages } = await connection.backup(target);
      const facts = checkCopy(target);
      return { ...facts, pages: totalPages, macFile: writeBackupMac(target, key) };
    } finally {
      connection.close();
    }
  } catch (error) {
    rmSync(target, { force: true });
    throw error;
  }
}

/** Refuses a file that is not a sound Jeton database; returns the master key it is bound to. */
function checkCopy(file: string): Omit<CopyFacts, "pages"> {
  const connection = new BetterSqlite3(file, { fileMustExist: true });
  try {
    const integrity = connection.pragma("integrity_check", { simple: true });
    if (integrity !== "ok") throw new Error(`${file} fails SQLite's integrity check: ${String(integrity)}`);
    const hasSettings = connection.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'settings'").get();
    if (!hasSettings) throw new Error(`${file} is not a Jeton database (no settings table)`);
    const bound = connection.prepare("SELECT value FROM settings WHERE name = 'master_key_id'").get() as { value: string } | undefined;
    return { masterKeyId: bound?.value ?? null };
  } catch (error) {
    if (error instanceof BetterSqlite3.SqliteError) throw new Error(`${file} is not a readable SQLite database: ${error.message}`);
    throw error;
  } finally {
    connection.close();
  }
}

const SQLITE_FILES = ["", "-wal", "-shm"];

/**
 * Keeps the database being replaced under `aside` while `target` still names it: its WAL is first
 * checkpointed into the main file (a server that crashed may have left committed writes only there), then
 * each file is linked (copied where links are refused) under the new name, and only then are the old
 * `-wal` and `-shm` removed, so they can never be applied to the restored file. Returns `aside`.
 */
function keepAside(target: string, aside: string): string {
  try {
    const connection = new BetterSqlite3(target, { fileMustExist: true });
    try {
      connection.pragma("wal_checkpoint(TRUNCATE)");
    } finally {
      connection.close();
    }
  } catch (error) {
    // A damaged database (often why a backup is restored): kept aside as it is, WAL and all.
    if (!(error instanceof BetterSqlite3.SqliteError)) throw error;
  }
  for (const suffix of SQLITE_FILES) {
    if (!existsSync(target + suffix)) continue;
    try {
      linkSync(target + suffix, aside + suffix);
    } catch {
      copyFileSync(target + suffix, aside + suffix, constants.COPYFILE_EXCL);
    }
  }
  for (const suffix of ["-wal", "-shm"]) rmSync(target + suffix, { force: true });
  return aside;
}

/**
 * True while another connection (a running `jeton serve`) has the database open: in WAL mode every
 * connection holds a shared lock on it, so an exclusive lock cannot be had.
 */
export function sqliteInUse(file: string): boolean {
  if (!existsSync(file)) return false;
  const probe = new BetterSqlite3(file, { fileMustExist: true });
  try {
    probe.pragma("busy_timeout = 0");
    probe.pragma("locking_mode = EXCLUSIVE");
    probe.exec("BEGIN EXCLUSIVE; COMMIT");
    return false;
  } catch (error) {
    if (error instanceof BetterSqlite3.SqliteError && /BUSY|LOCKED/.test(error.code)) return true;
    // A damaged database, often why a backup is restored: no server can have it open either.
    if (error instanceof BetterSqlite3.SqliteError && /NOTADB|CORRUPT/.test(error.code)) return false;
    throw error;
  } finally {
    probe.close();
  }
}

/**
 * Puts a backup in place of the embedded database `target`. The backup is copied next to it (0600),
 * checked, migrated and settled (restored-state.ts: nothing the database had closed since comes back)
 * before anything else changes, then renamed into place. An existing database is only ever kept aside
 * (with its -wal and -shm, as `<name>.before-restore-<time>`), and only with `replace` and while no
 * process has it open. The restore is audited in the restored database.
 */
export async function restoreSqlite(backup: string, target: string, options: RestoreOptions): Promise<RestoreOutcome> {
  if (!existsSync(backup)) throw new Error(`there is no backup at ${backup}`);
  // Held from before the restore looks at `target` to after its rename: every opening of `target` takes
  // it first (openDatabase), so a validator or command started meanwhile waits, then opens the restored
  // database; never the one moved aside, nor a fresh one the rename would replace under it.
  const targetLock = await migrationLock(target);
  try {
    return await restoreUnderLock(backup, target, options);
  } finally {
    targetLock.close();
  }
}

interface RestoreOptions {
  replace: boolean;
  now: Date;
  actor: Actor;
  directWindow: number;
  /** The master keys a backup's authentication may be under, or "unauthenticated" (a backup made before backups were). */
  authentication: MasterKey[] | "unauthenticated";
}

type RestoreOutcome = Omit<CopyFacts, "pages"> & { movedAside: string | null; settlement: RestoreSettlement };

async function restoreUnderLock(backup: string, target: string, options: RestoreOptions): Promise<RestoreOutcome> {
  const existing = SQLITE_FILES.map((suffix) => target + suffix).filter((path) => existsSync(path));
  if (existing.length > 0 && !options.replace) {
    throw new Error(`${existing.join(", ")} already exist${existing.length === 1 ? "s" : ""}: restore never overwrites a database; pass --replace to move it aside (with the server stopped)`);
  }
  const incoming = join(dirname(target), `.${basename(target)}.restoring`);
  const removeIncoming = () => {
    // (with the migration lock its opening leaves: nothing else ever opens this copy)
    for (const suffix of [...SQLITE_FILES, MIGRATION_LOCK_SUFFIX]) rmSync(incoming + suffix, { force: true });
  };
  removeIncoming();
  try {
    closeSync(openSync(incoming, "wx", 0o600));
    copyFileSync(backup, incoming, constants.COPYFILE_FICLONE);
    // copyFile gives the copy the backup's mode: the database is 0600 whatever the backup file's is.
    chmodSync(incoming, 0o600);
    // Authenticated before SQLite reads anything of it.
    if (options.authentication !== "unauthenticated") checkBackupMac(incoming, macFileOf(backup), options.authentication, backup);
    const facts = checkCopy(incoming);
    const replacing = existing.length > 0;
    if (replacing && sqliteInUse(target)) throw new Error(`${target} is in use (a validator is running on it): stop it, then restore`);
    // Migrated first, so an older backup settles with the tables of this version.
    await (await openDatabase({ kind: "sqlite", file: incoming })).close();
    const connection = new BetterSqlite3(incoming, { fileMustExist: true });
    let settlement: RestoreSettlement;
    try {
      // Before anything is settled in it: a trigger of the file's own would run in the settlement too.
      const differences = await schemaDifferences(connection);
      if (differences.length > 0) {
        throw new Error(`${backup} was changed after it was made: its schema is not the one Jeton's migrations make (${differences.join(", ")}); nothing was restored`);
      }
      const now = options.now.getTime();
      settlement = settleRestoredDatabase(connection, { now, directWindow: options.directWindow, replaced: replacing ? target : null });
      connection.prepare(INSERT_AUDIT_ROW).run(auditRow(options.actor, now, { event: "database.restore", result: "ok", detail: { backup: basename(backup), ...settlement } }));
      // Everything into the main file: only that file is renamed into place.
      connection.pragma("wal_checkpoint(TRUNCATE)");
    } finally {
      connection.close();
    }
    const movedAside = replacing ? keepAside(target, `${target}.before-restore-${options.now.toISOString().replace(/[:.]/g, "-")}`) : null;
    // The one step that changes what `target` names, and rename(2) does it atomically: a restore stopped
    // at any point before leaves the previous database in place, so running it again carries forward
    // from it as the first run would have.
    renameSync(incoming, target);
    return { ...facts, movedAside, settlement };
  } finally {
    removeIncoming();
  }
}
