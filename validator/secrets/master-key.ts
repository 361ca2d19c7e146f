import { createHash, hkdfSync, randomBytes } from "node:crypto";
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { dirname } from "node:path";

/** The key outside the database from which every at-rest key is derived. */
export interface MasterKey {
  /** Short public id stored beside each sealed seed, so a rotated key can be told apart. */
  id: string;
  derive(purpose: string): Buffer;
}

export function masterKeyFrom(bytes: Buffer): MasterKey {
  if (bytes.length !== 32) throw new Error(`the master key must be 32 bytes, got ${bytes.length}`);
  const id = createHash("sha256").update("jeton key id").update(bytes).digest("hex").slice(0, 12);
  return {
    id,
    derive: (purpose) => Buffer.from(hkdfSync("sha256", bytes, Buffer.alloc(0), `jeton/${purpose}`, 32)),
  };
}

/**
 * Reads the master key file (base64 of 32 bytes), creating it with mode 0600 when `createIfMissing`.
 * Returns whether it was created so the caller can say so.
 */
export function loadMasterKey(path: string, createIfMissing: boolean): { key: MasterKey; created: boolean } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT" || !createIfMissing) {
      throw new Error(`cannot read the master key file ${path}: ${(error as Error).message}`);
    }
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const bytes = createKeyFile(path);
    // Another instance starting together created it first: that key is the one.
    if (bytes === null) return loadMasterKey(path, false);
    return { key: masterKeyFrom(bytes), created: true };
  }
  if ((statSync(path).mode & 0o077) !== 0) {
    throw new Error(`the master key file ${path} is readable by others: chmod 600 it`);
  }
  const bytes = Buffer.from(text.trim(), "base64");
  if (bytes.length !== 32) throw new Error(`the master key file ${path} does not hold 32 base64-encoded bytes`);
  return { key: masterKeyFrom(bytes), created: false };
}

/**
 * A new key written to a private temporary file, synced, then linked under `path`: the key appears whole
 * or not at all (an instance starting meanwhile never reads it half written), and never over a key
 * another process created in the meantime. Null when one did.
 */
function createKeyFile(path: string): Buffer | null {
  const bytes = randomBytes(32);
  const temporary = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  const fd = openSync(temporary, "wx", 0o600);
  try {
    writeSync(fd, bytes.toString("base64") + "\n");
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temporary, path);
    return bytes;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return null;
    throw error;
  } finally {
    rmSync(temporary, { force: true });
  }
}
