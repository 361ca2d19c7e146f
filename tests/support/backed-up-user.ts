import { randomBytes } from "node:crypto";
import { masterKeyFrom, type MasterKey } from "../../validator/secrets/master-key.js";
import type { DatabaseLocation } from "../../validator/storage/database.js";
import { backupSqlite } from "../../validator/storage/sqlite-backup.js";
import { rememberSecret } from "./secret-registry.js";
import { startValidator, TestClock } from "./test-validator.js";

/**
 * What a restore test restores: the SQLite database at `location` with jdupont holding token `serial` and
 * a PIN, backed up (authenticated) to `backup`, its validator stopped as the README says.
 */
export async function backedUpUser(location: DatabaseLocation & { kind: "sqlite" }, backup: string, serial: string) {
  const clock = new TestClock();
  const validator = await startValidator(location, { clock });
  const seed = randomBytes(32);
  rememberSecret(seed.toString("hex"));
  const pin = "583016";
  rememberSecret(pin);
  await validator.request("POST", "/v1/tokens", { serial, secretHex: seed.toString("hex") });
  await validator.request("POST", `/v1/tokens/${serial}/assign`, { user: "jdupont" });
  await validator.ctx.database.db.updateTable("users").set({ pin_verifier: validator.ctx.verifiers.pinVerifier("jdupont", pin) }).where("name", "=", "jdupont").execute();
  const key: MasterKey = masterKeyFrom(validator.masterKey);
  await backupSqlite(location.file, backup, key);
  await validator.close();
  return { clock, masterKey: validator.masterKey, key, seed, pin };
}
