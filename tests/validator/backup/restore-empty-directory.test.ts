// An attacker review: a restore decided whether it replaces a database (and so whether it checks that
// nobody uses it) before it took the database's opening lock. Restoring into an empty data directory, a
// validator a supervisor started during the copy and checks of the backup created a fresh database and
// served it; the restore then renamed the backup over it, and the validator served the unlinked file for
// ever. Failed before the fix (the restore takes the lock before it looks at the target).
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterEach, describe, expect, it, vi } from "vitest";
import { restoreSqlite } from "../../../validator/storage/sqlite-backup.js";
import { referenceCode, referenceStep } from "../../support/reference-totp.js";
import { rememberSecret } from "../../support/secret-registry.js";
import { backedUpUser } from "../../support/backed-up-user.js";
import { startValidator, testDatabase, type RunningValidator } from "../../support/test-validator.js";

const hook = vi.hoisted(() => ({ beforeLock: null as null | (() => Promise<void>) }));
vi.mock("../../../validator/storage/database.js", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../../../validator/storage/database.js")>();
  return {
    ...actual,
    async migrationLock(file: string) {
      // The restore's own lock on the target: what happened before it (the copy, the MAC and integrity
      // checks of a large backup: seconds) is the window.
      if (!file.endsWith(".restoring") && hook.beforeLock) {
        const started = hook.beforeLock;
        hook.beforeLock = null;
        await started();
      }
      return actual.migrationLock(file);
    },
  };
});

const operator = { id: "local:test", role: "operator", source: "cli" };

describe("a validator started while a restore into an empty directory copies the backup", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("is refused or serves the restored database", async () => {
    const database = await testDatabase("sqlite");
    const scratch = mkdtempSync(join(tmpdir(), "jeton-restore-backup-"));
    const backup = join(scratch, "jeton.backup");
    const emptyDir = mkdtempSync(join(tmpdir(), "jeton-restore-empty-"));
    const target = join(emptyDir, "jeton.sqlite");
    cleanups.push(async () => {
      rmSync(scratch, { recursive: true, force: true });
      rmSync(emptyDir, { recursive: true, force: true });
      await database.drop();
    });
    const { clock, masterKey, key, seed, pin } = await backedUpUser(database.location as { kind: "sqlite"; file: string }, backup, "RE-1");

    let stray: RunningValidator | undefined;
    cleanups.push(async () => void (await stray?.close().catch(() => undefined)));
    hook.beforeLock = async () => {
      stray = await startValidator({ kind: "sqlite", file: target }, { clock, masterKey });
    };
    const restoring = await restoreSqlite(backup, target, { replace: false, now: new Date(clock.millis), actor: operator, directWindow: 1, authentication: [key] }).then(
      () => "restored",
      (error: Error) => error.message,
    );
    expect(stray, "a validator was started during the restore").toBeDefined();
    clock.advance(300);
    const code = referenceCode(seed, referenceStep(clock.millis));
    rememberSecret(code);
    rememberSecret(pin + code);
    const served = await stray!.request("POST", "/v1/validate", { user: "jdupont", passcode: pin + code }, "portal");
    // What a process opening the target now finds: the restored main file with the stray validator's WAL beside it.
    const wal = existsSync(`${target}-wal`);
    const probe = new BetterSqlite3(target, { readonly: true });
    let integrity: string;
    try {
      integrity = String(probe.pragma("integrity_check", { simple: true }));
    } catch (error) {
      integrity = (error as Error).message;
    } finally {
      probe.close();
    }
    // Sound outcomes: the restore refused (a database appeared), or the running validator serves the restored data.
    expect({ restoring, strayServes: served.json?.result, walBesideRestored: wal, integrity }).toEqual(
      restoring === "restored" ? { restoring, strayServes: "accept", walBesideRestored: wal, integrity: "ok" } : { restoring: expect.stringMatching(/in use|already exist/), strayServes: served.json?.result, walBesideRestored: wal, integrity },
    );
  });
});
