// A backup's authentication: an HMAC of the whole file under a key derived from the master key, written
// beside it as `<file>.mac` by `jeton backup` and checked by `jeton restore` before anything is read
// from the file. Whoever can write to the backup store but has no master key cannot then edit a backup's
// rows (an API key of their own, a token moved to another user) or its schema and have it restored.
import { createHmac } from "node:crypto";
import { closeSync, openSync, readFileSync, readSync, writeSync } from "node:fs";
import type { MasterKey } from "../secrets/master-key.js";
import { constantTimeEqual } from "../secrets/constant-time.js";

const PURPOSE = "backup-authentication";
const FORMAT = /^jeton-backup-mac v1 key:([0-9a-f]{12}) hmac-sha256:([0-9a-f]{64})\n?$/;

export const macFileOf = (backup: string) => `${backup}.mac`;

const CHUNK_BYTES = 1 << 20;

/** Read in chunks: a database may be larger than a Buffer can hold, and need not sit in memory whole. */
function macOf(file: string, key: MasterKey): string {
  const hmac = createHmac("sha256", key.derive(PURPOSE));
  const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  const descriptor = openSync(file, "r");
  try {
    for (let read: number; (read = readSync(descriptor, chunk, 0, CHUNK_BYTES, null)) > 0; ) hmac.update(chunk.subarray(0, read));
  } finally {
    closeSync(descriptor);
  }
  return hmac.digest("hex");
}

/** Writes `<backup>.mac` (new, 0600) for the backup file as it is now. */
export function writeBackupMac(backup: string, key: MasterKey): string {
  const macFile = macFileOf(backup);
  const descriptor = openSync(macFile, "wx", 0o600);
  try {
    writeSync(descriptor, `jeton-backup-mac v1 key:${key.id} hmac-sha256:${macOf(backup, key)}\n`);
  } finally {
    closeSync(descriptor);
  }
  return macFile;
}

/**
 * Refuses `copy` (the backup as copied for the restore, so what is checked is what is restored) unless
 * `macFile` authenticates it under one of `keys`.
 */
export function checkBackupMac(copy: string, macFile: string, keys: MasterKey[], shownName: string): void {
  let text: string;
  try {
    text = readFileSync(macFile, "utf8");
  } catch {
    throw new Error(
      `${shownName} has no ${macFile} beside it: a backup is restored only with the authentication \`jeton backup\` wrote, ` +
        "so that an edited copy cannot be restored (a backup made before backups were authenticated: pass --unauthenticated, knowingly)",
    );
  }
  const parsed = FORMAT.exec(text);
  if (!parsed) throw new Error(`${macFile} is not a backup authentication written by jeton backup`);
  const key = keys.find((candidate) => candidate.id === parsed[1]);
  if (!key) throw new Error(`${shownName} was authenticated under master key ${parsed[1]}, which is not loaded (JETON_MASTER_KEY_FILE, JETON_PREVIOUS_MASTER_KEY_FILE): nothing was restored`);
  if (!constantTimeEqual(macOf(copy, key), parsed[2]!)) {
    throw new Error(`${shownName} was changed after it was made (its authentication in ${macFile} does not match): nothing was restored`);
  }
}
