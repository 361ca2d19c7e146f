import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { basename, dirname } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { masterKeyFrom } from "../../../validator/secrets/master-key.js";
import { backupSqlite, restoreSqlite } from "../../../validator/storage/sqlite-backup.js";
import { rememberSecret } from "../../support/secret-registry.js";
import { startValidator, testDatabase } from "../../support/test-validator.js";

// A restore stopped just before its last step (a crash, a full disk): the rename that puts the restored
// copy in place fails once, as a kill at that moment would leave things.
const fault = vi.hoisted(() => ({ failRestoreRename: false }));
vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  return {
    ...fs,
    renameSync(from: import("node:fs").PathLike, to: import("node:fs").PathLike) {
      if (fault.failRestoreRename && String(from).endsWith(".restoring")) throw new Error("simulated stop before the restored copy is renamed into place");
      return fs.renameSync(from, to);
    },
  };
});

const operator = { id: "local:test", role: "operator", source: "cli" };

describe("a restore stopped before its end", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    fault.failRestoreRename = false;
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("leaves the previous database in place, and running it again carries forward from it", async () => {
    const database = await testDatabase("sqlite");
    const file = (database.location as { file: string }).file;
    const backup = `${file}.backup`;
    const keptAside = () => readdirSync(dirname(file)).filter((name) => name.startsWith(`${basename(file)}.before-restore-`));
    cleanups.push(async () => {
      for (const name of keptAside()) rmSync(`${dirname(file)}/${name}`, { force: true });
      rmSync(backup, { force: true });
      rmSync(`${backup}.mac`, { force: true });
      await database.drop();
    });
    const v = await startValidator(database.location);
    const seed = randomBytes(32).toString("hex");
    rememberSecret(seed);
    await v.request("POST", "/v1/tokens", { serial: "JT-LOST", secretHex: seed });
    const key = masterKeyFrom(v.masterKey);
    await backupSqlite(file, backup, key);
    // Closed after the backup: a restore must not bring it back.
    await v.request("POST", "/v1/tokens/JT-LOST/disable", { reason: "lost" }, "support");
    await v.close();

    fault.failRestoreRename = true;
    await expect(restoreSqlite(backup, file, { replace: true, now: new Date(), actor: operator, directWindow: 1, authentication: [key] })).rejects.toThrow(/simulated stop/);
    fault.failRestoreRename = false;
    expect(existsSync(file)).toBe(true);
    expect(readdirSync(dirname(file)).filter((name) => name.includes(".restoring"))).toEqual([]);
    const untouched = await startValidator(database.location, { masterKey: v.masterKey });
    expect((await untouched.request("GET", "/v1/tokens/JT-LOST", undefined, "support")).json).toMatchObject({ status: "disabled" });
    await untouched.close();

    const restored = await restoreSqlite(backup, file, { replace: true, now: new Date(Date.now() + 1), actor: operator, directWindow: 1, authentication: [key] });
    expect(restored.settlement.carriedForward).toMatchObject({ disabledTokens: 1 });
    expect(keptAside().filter((name) => !/-(wal|shm)$/.test(name))).toHaveLength(2);
    const after = await startValidator(database.location, { masterKey: v.masterKey });
    expect((await after.request("GET", "/v1/tokens/JT-LOST", undefined, "support")).json).toMatchObject({ status: "disabled" });
    await after.close();
  });
});
