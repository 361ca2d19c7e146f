// An attacker review: `jeton restore --replace` checked once that no validator had the database open, then
// held nothing while it migrated, settled and renamed. A validator started in that window (a supervisor
// restarting it, a second instance) opened the database being replaced and served it on after the
// rename, beside the next one on the restored copy: one code was accepted on both. Failed before the
// fix (the restore now holds the database's opening lock from its check to its rename).
import { readdirSync, rmSync } from "node:fs";
import { basename, dirname } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { DatabaseLocation } from "../../../validator/storage/database.js";
import { restoreSqlite } from "../../../validator/storage/sqlite-backup.js";
import { referenceCode, referenceStep } from "../../support/reference-totp.js";
import { rememberSecret } from "../../support/secret-registry.js";
import { backedUpUser } from "../../support/backed-up-user.js";
import { startValidator, testDatabase, type RunningValidator } from "../../support/test-validator.js";

const hook = vi.hoisted(() => ({ whileRestoring: null as null | (() => Promise<void>) }));
vi.mock("../../../validator/storage/database.js", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../../../validator/storage/database.js")>();
  return {
    ...actual,
    async openDatabase(location: DatabaseLocation, events?: Parameters<typeof actual.openDatabase>[1]) {
      // The restore opens its incoming copy (to migrate it) after it checked that nobody uses the target.
      if (location.kind === "sqlite" && location.file.endsWith(".restoring") && hook.whileRestoring) {
        const started = hook.whileRestoring;
        hook.whileRestoring = null;
        await started();
      }
      return actual.openDatabase(location, events);
    },
  };
});

const operator = { id: "local:test", role: "operator", source: "cli" };

describe("a validator started while a restore runs", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("is refused or sees the restored database: a code is never accepted on both", async () => {
    const database = await testDatabase("sqlite");
    const file = (database.location as { file: string }).file;
    const backup = `${file}.backup`;
    cleanups.push(async () => {
      for (const name of readdirSync(dirname(file)).filter((n) => n.startsWith(`${basename(file)}.before-restore-`))) rmSync(`${dirname(file)}/${name}`, { force: true });
      rmSync(backup, { force: true });
      rmSync(`${backup}.mac`, { force: true });
      await database.drop();
    });
    const { clock, masterKey, key, seed, pin } = await backedUpUser(database.location as { kind: "sqlite"; file: string }, backup, "RS-1");

    let starting: Promise<RunningValidator> | undefined;
    cleanups.push(async () => void (await (await starting?.catch(() => undefined))?.close()));
    // ... and while the restore runs, the validator is started again (a supervisor, a second instance).
    // The restore goes on once it has started, or after 3 s if it waits (for a lock the restore holds).
    hook.whileRestoring = async () => {
      starting = startValidator(database.location, { clock, masterKey });
      await Promise.race([starting.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 3000))]);
    };
    const restoring = await restoreSqlite(backup, file, { replace: true, now: new Date(clock.millis), actor: operator, directWindow: 1, authentication: [key] }).then(
      () => "restored",
      (error: Error) => error.message,
    );
    expect(starting, "a validator was started during the restore").toBeDefined();
    // Refusing the restore (the database came into use) is a sound answer too: then nothing was replaced.
    if (restoring !== "restored") {
      expect(restoring).toMatch(/in use/);
      return;
    }
    const stray = await starting!;

    const restored = await startValidator(database.location, { clock, masterKey });
    cleanups.push(async () => restored.close());

    clock.advance(300);
    const code = referenceCode(seed, referenceStep(clock.millis));
    rememberSecret(code);
    rememberSecret(pin + code);
    const first = await stray.request("POST", "/v1/validate", { user: "jdupont", passcode: pin + code }, "portal");
    const second = await restored.request("POST", "/v1/validate", { user: "jdupont", passcode: pin + code }, "portal");
    const results = [first.json?.result ?? `HTTP ${first.status}`, second.json?.result ?? `HTTP ${second.status}`];
    expect(results.filter((result) => result === "accept"), `one passcode, two instances after the restore: ${results.join(", ")}`).toHaveLength(1);
  });
});
