import { closeSync, existsSync, openSync, statSync } from "node:fs";
import { dirname } from "node:path";

/** Creates `file` empty with mode 0600 unless it exists (exclusive create: never truncates a database). */
export function createPrivateFile(file: string): void {
  try {
    closeSync(openSync(file, "wx", 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
}

/**
 * Refuses an SQLite database whose directory or files other accounts can reach: the database holds the
 * PIN verifiers and sealed seeds, and whoever can write the directory can swap the files.
 */
export function refuseSharedSqliteFiles(file: string): void {
  refuseShared(dirname(file), "the data directory", "700");
  for (const path of [file, `${file}-wal`, `${file}-shm`]) {
    if (existsSync(path)) refuseShared(path, "the database file", "600");
  }
}

function refuseShared(path: string, what: string, mode: string): void {
  const actual = statSync(path).mode & 0o777;
  if ((actual & 0o077) !== 0) {
    throw new Error(`${what} ${path} is open to other accounts (mode ${actual.toString(8).padStart(4, "0")}): chmod ${mode} ${path}`);
  }
}
