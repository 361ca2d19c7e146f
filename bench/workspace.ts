import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase } from "../tests/support/postgres.js";
import type { DatabaseLocation } from "../validator/storage/database.js";

export interface BenchWorkspace {
  /** The temporary directory holding the key file (and the SQLite file). */
  directory: string;
  masterKey: Buffer;
  location: DatabaseLocation;
  /** What `jeton serve` needs to run on this database with this key. */
  environment: NodeJS.ProcessEnv;
  remove(): Promise<void>;
}

/** A temporary directory with a master key file, and a fresh SQLite file or PostgreSQL database. */
export async function createBenchWorkspace(dialect: "sqlite" | "postgres"): Promise<BenchWorkspace> {
  const directory = mkdtempSync(join(tmpdir(), "jeton-bench-"));
  const masterKey = randomBytes(32);
  const masterKeyFile = join(directory, "master.key");
  writeFileSync(masterKeyFile, masterKey.toString("base64"), { mode: 0o600 });
  const postgres = dialect === "postgres" ? await createTestDatabase() : null;
  return {
    directory,
    masterKey,
    location: postgres ? { kind: "postgres", url: postgres.url } : { kind: "sqlite", file: join(directory, "jeton.sqlite") },
    environment: { ...(postgres ? { DATABASE_URL: postgres.url } : { JETON_DATA_DIR: directory }), JETON_MASTER_KEY_FILE: masterKeyFile },
    async remove() {
      await postgres?.drop();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
