// A backup file edited after it was made (by whoever can write to the backup store, without the master
// key) cannot plant schema objects of its own: a trigger that undid every later disable of a token, or
// the audit log's append-only trigger dropped. An attacker review (2026-12-03) found both kept by
// `jeton restore`: a stolen token disabled after the restore still logged in, and the audit log could be
// emptied. The restore now refuses a file whose schema is not exactly the migrations', and changes nothing.
import BetterSqlite3 from "better-sqlite3";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { basename, dirname } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { backupSqlite, restoreSqlite } from "../../validator/storage/sqlite-backup.js";
import { rememberSecret } from "../support/secret-registry.js";
import { startValidator, testDatabase } from "../support/test-validator.js";

const operator = { id: "local:test", role: "operator", source: "cli" };

const keepEnabled = "AFTER UPDATE OF disabled_at ON tokens WHEN NEW.disabled_at IS NOT NULL BEGIN UPDATE tokens SET disabled_at = NULL, disabled_reason = NULL WHERE serial = NEW.serial; END";

const edits: Record<string, (backup: BetterSqlite3.Database) => void> = {
  "a trigger of its own that undoes a disable": (backup) => backup.exec(`CREATE TRIGGER keep_enabled ${keepEnabled};`),
  "the audit log's append-only trigger dropped": (backup) => backup.exec("DROP TRIGGER audit_log_no_delete;"),
  "the append-only trigger replaced by one that lets deletes through": (backup) =>
    backup.exec("DROP TRIGGER audit_log_no_delete; CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log WHEN 0 BEGIN SELECT 1; END;"),
  "an index of its own": (backup) => backup.exec("CREATE INDEX tokens_spy ON tokens (sealed_secret);"),
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
      await database.drop();
    });
    const v = await startValidator(database.location);
    const seed = randomBytes(32).toString("hex");
    rememberSecret(seed);
    await v.request("POST", "/v1/tokens", { serial: "JT-STOLEN", secretHex: seed });
    await backupSqlite(file, backup);
    const edited = new BetterSqlite3(backup);
    edits[edit]!(edited);
    edited.close();
    await v.request("POST", "/v1/tokens/JT-STOLEN/disable", { reason: "stolen" }, "support");
    await v.close();

    await expect(restoreSqlite(backup, file, { replace: true, now: new Date(), actor: operator, directWindow: 1 })).rejects.toThrow(
      /was changed after it was made: its schema is not the one Jeton's migrations make .*nothing was restored/,
    );
    expect(readdirSync(dirname(file)).filter((name) => name.startsWith(`${basename(file)}.before-restore-`) || name.includes(".restoring"))).toEqual([]);
    expect(existsSync(file)).toBe(true);
    const after = await startValidator(database.location, { masterKey: v.masterKey });
    try {
      expect((await after.request("GET", "/v1/tokens/JT-STOLEN", undefined, "support")).json).toMatchObject({ status: "disabled" });
    } finally {
      await after.close();
    }
  });

  it("restores an unedited backup, whose schema is the migrations' own", async () => {
    const database = await testDatabase("sqlite");
    const file = (database.location as { file: string }).file;
    const backup = `${file}.backup`;
    const v = await startValidator(database.location);
    await backupSqlite(file, backup);
    await v.close();
    cleanups.push(async () => {
      for (const name of readdirSync(dirname(file)).filter((name) => name.startsWith(`${basename(file)}.before-restore-`))) rmSync(`${dirname(file)}/${name}`, { force: true });
      rmSync(backup, { force: true });
      await database.drop();
    });
    const restored = await restoreSqlite(backup, file, { replace: true, now: new Date(), actor: operator, directWindow: 1 });
    expect(restored.movedAside).not.toBeNull();
  });
});
