// A backup file edited after it was made (by whoever can write to the backup store, without the master
// key) is not restored. Attacker reviews (2026-12-03) had `jeton restore` keep a trigger that undid every
// later disable of a token (a stolen token disabled after the restore still logged in), the audit log's
// append-only trigger dropped, and an API key row of their own (a working help-desk key). The backup's
// authentication (<file>.mac) now refuses any edit; without it (--unauthenticated, a backup made before
// backups were authenticated) a schema that is not exactly the migrations' is still refused.
import BetterSqlite3 from "better-sqlite3";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { basename, dirname } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { masterKeyFrom } from "../../../validator/secrets/master-key.js";
import { backupSqlite, restoreSqlite } from "../../../validator/storage/sqlite-backup.js";
import { rememberSecret } from "../../support/secret-registry.js";
import { startValidator, testDatabase } from "../../support/test-validator.js";

const operator = { id: "local:test", role: "operator", source: "cli" };

const keepEnabled = "AFTER UPDATE OF disabled_at ON tokens WHEN NEW.disabled_at IS NOT NULL BEGIN UPDATE tokens SET disabled_at = NULL, disabled_reason = NULL WHERE serial = NEW.serial; END";

/** A change to the rows only: the schema check cannot see it, the authentication does. */
const rowEdit = "an API key row of its own (a working help-desk key, were it restored)";

const edits: Record<string, (backup: BetterSqlite3.Database) => void> = {
  "a trigger of its own that undoes a disable": (backup) => backup.exec(`CREATE TRIGGER keep_enabled ${keepEnabled};`),
  "the audit log's append-only trigger dropped": (backup) => backup.exec("DROP TRIGGER audit_log_no_delete;"),
  "the append-only trigger replaced by one that lets deletes through": (backup) =>
    backup.exec("DROP TRIGGER audit_log_no_delete; CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log WHEN 0 BEGIN SELECT 1; END;"),
  "an index of its own": (backup) => backup.exec("CREATE INDEX tokens_spy ON tokens (sealed_secret);"),
  [rowEdit]: (backup) =>
    backup
      .prepare("INSERT INTO api_keys (id, role, secret_hash, label, created_at) VALUES ('a1b2c3d4e5f6', 'helpdesk', ?, NULL, 0)")
      .run(createHash("sha256").update("chosen by whoever edited the backup").digest("base64")),
  // SQLite refuses such a name in CREATE TRIGGER, but loads it from sqlite_master written directly (a
  // second attacker review found the first version of the check skipping every sqlite_ name).
  "a trigger under a reserved sqlite_ name, written into sqlite_master directly": (backup) => {
    backup.unsafeMode(true);
    backup.pragma("writable_schema = ON");
    backup
      .prepare("INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql) VALUES ('trigger', 'sqlite_keep', 'tokens', 0, ?)")
      .run(`CREATE TRIGGER sqlite_keep ${keepEnabled}`);
    backup.pragma("writable_schema = OFF");
  },
};

describe("restoring a backup edited after it was made", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it.each(Object.keys(edits))("refuses %s, and changes nothing", async (edit) => {
    const database = await testDatabase("sqlite");
    const file = (database.location as { file: string }).file;
    const backup = `${file}.backup`;
    cleanups.push(async () => {
      rmSync(backup, { force: true });
      rmSync(`${backup}.mac`, { force: true });
      await database.drop();
    });
    const v = await startValidator(database.location);
    const key = masterKeyFrom(v.masterKey);
    const seed = randomBytes(32).toString("hex");
    rememberSecret(seed);
    await v.request("POST", "/v1/tokens", { serial: "JT-STOLEN", secretHex: seed });
    await backupSqlite(file, backup, key);
    const edited = new BetterSqlite3(backup);
    edits[edit]!(edited);
    edited.close();
    await v.request("POST", "/v1/tokens/JT-STOLEN/disable", { reason: "stolen" }, "support");
    await v.close();

    const restore = (authentication: Parameters<typeof restoreSqlite>[2]["authentication"]) =>
      restoreSqlite(backup, file, { replace: true, now: new Date(), actor: operator, directWindow: 1, authentication });
    await expect(restore([key])).rejects.toThrow(/was changed after it was made \(its authentication in .*\.mac does not match\): nothing was restored/);
    if (edit !== rowEdit) {
      await expect(restore("unauthenticated")).rejects.toThrow(/was changed after it was made: its schema is not the one Jeton's migrations make .*nothing was restored/);
    }
    expect(readdirSync(dirname(file)).filter((name) => name.startsWith(`${basename(file)}.before-restore-`) || name.includes(".restoring"))).toEqual([]);
    expect(existsSync(file)).toBe(true);
    const after = await startValidator(database.location, { masterKey: v.masterKey });
    try {
      expect((await after.request("GET", "/v1/tokens/JT-STOLEN", undefined, "support")).json).toMatchObject({ status: "disabled" });
    } finally {
      await after.close();
    }
  });

  it("restores an unedited backup under the key it was authenticated with, and refuses it without that key or its authentication", async () => {
    const database = await testDatabase("sqlite");
    const file = (database.location as { file: string }).file;
    const backup = `${file}.backup`;
    const v = await startValidator(database.location);
    const key = masterKeyFrom(v.masterKey);
    await backupSqlite(file, backup, key);
    await v.close();
    cleanups.push(async () => {
      for (const name of readdirSync(dirname(file)).filter((name) => name.startsWith(`${basename(file)}.before-restore-`))) rmSync(`${dirname(file)}/${name}`, { force: true });
      rmSync(backup, { force: true });
      rmSync(`${backup}.mac`, { force: true });
      await database.drop();
    });
    const restore = (authentication: Parameters<typeof restoreSqlite>[2]["authentication"]) =>
      restoreSqlite(backup, file, { replace: true, now: new Date(), actor: operator, directWindow: 1, authentication });
    await expect(restore([masterKeyFrom(randomBytes(32))])).rejects.toThrow(new RegExp(`authenticated under master key ${key.id}, which is not loaded`));
    const restored = await restore([masterKeyFrom(randomBytes(32)), key]);
    expect(restored.movedAside).not.toBeNull();
    rmSync(`${backup}.mac`);
    await expect(restore([key])).rejects.toThrow(/has no .*\.mac beside it/);
  });
});
