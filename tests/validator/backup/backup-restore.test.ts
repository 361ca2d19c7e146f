import { randomBytes } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { jeton, startServe, type ServerProcess } from "../../support/cli.js";
import { referenceCode, referenceStep } from "../../support/reference-totp.js";

describe("online backup and restore of the embedded SQLite database", () => {
  const root = mkdtempSync(join(tmpdir(), "jeton-backup-"));
  const dataDir = join(root, "data");
  const servers: ServerProcess[] = [];
  afterAll(async () => {
    for (const server of servers) await server.stop();
    rmSync(root, { recursive: true, force: true });
  });
  const seed = randomBytes(32);
  const pin = "583920";

  async function call(server: ServerProcess, key: string, path: string, body: unknown) {
    const response = await fetch(server.url + path, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    return { status: response.status, json: (await response.json()) as { result?: string; challenge?: { id: string } } };
  }
  const createKey = async (directory: string, role: string) => JSON.parse((await jeton(["keys", "create", "--role", role, "--json"], { JETON_DATA_DIR: directory })).stdout).key as string;
  /** PIN + the code one step ahead of the first-use step (inside the direct window): no wait for a fresh step. */
  let firstStep = 0;
  const nextPasscode = () => pin + referenceCode(seed, firstStep + 1);

  /**
   * After a restore the code used since the backup is spent (so is every code up to the restore's direct
   * window): the user logs in with later codes, through a next-code challenge as after a drift.
   */
  async function logsInAfterRestore(server: ServerProcess, portal: string) {
    expect((await call(server, portal, "/v1/validate", { user: "jdupont", passcode: nextPasscode() })).json.result).toBe("reject");
    const later = await call(server, portal, "/v1/validate", { user: "jdupont", passcode: pin + referenceCode(seed, firstStep + 5) });
    expect(later.json.result).toBe("challenge");
    const answered = await call(server, portal, "/v1/validate", { user: "jdupont", challenge: later.json.challenge!.id, response: referenceCode(seed, firstStep + 6) });
    expect(answered.json.result).toBe("accept");
  }

  it("copies the live database under load (0600, never overwriting), restores it into a stopped data directory, and the user logs in", async () => {
    const server = await startServe({ JETON_DATA_DIR: dataDir });
    servers.push(server);
    const helpdesk = await createKey(dataDir, "helpdesk");
    const portal = await createKey(dataDir, "portal");
    expect((await call(server, helpdesk, "/v1/tokens", { serial: "JT00000042", secretHex: seed.toString("hex") })).status).toBe(201);
    expect((await call(server, helpdesk, "/v1/tokens/JT00000042/assign", { user: "jdupont" })).status).toBe(200);
    const opened = await call(server, portal, "/v1/validate", { user: "jdupont", passcode: referenceCode(seed, referenceStep(Date.now())) });
    firstStep = referenceStep(Date.now());
    expect((await call(server, portal, "/v1/validate", { user: "jdupont", challenge: opened.json.challenge!.id, response: pin })).json.result).toBe("accept");

    // Validations keep writing (rejects for another user: each writes the user row and an audit row) while the backup runs.
    let loading = true;
    let written = 0;
    const load = (async () => {
      while (loading) {
        await call(server, portal, "/v1/validate", { user: "busy.user", passcode: "000000000000" });
        written++;
      }
    })();
    const backup = join(root, "copy.sqlite");
    const result = await jeton(["backup", backup, "--json"], { JETON_DATA_DIR: dataDir });
    loading = false;
    await load;
    expect(result.code, result.stderr).toBe(0);
    expect(written).toBeGreaterThan(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ file: backup, masterKeyId: expect.stringMatching(/^[0-9a-f]{12}$/), macFile: `${backup}.mac` });
    expect(statSync(backup).mode & 0o777).toBe(0o600);
    expect(statSync(`${backup}.mac`).mode & 0o777).toBe(0o600);

    // Never overwrites: the same name is refused and the copy is left as it was.
    const copied = readFileSync(backup);
    const again = await jeton(["backup", backup], { JETON_DATA_DIR: dataDir });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/already exists: a backup never overwrites/);
    expect(readFileSync(backup).equals(copied)).toBe(true);

    // Restore refuses to touch a database in use, with or without --replace.
    expect((await jeton(["restore", backup], { JETON_DATA_DIR: dataDir })).stderr).toMatch(/already exists?: restore never overwrites/);
    const busy = await jeton(["restore", backup, "--replace"], { JETON_DATA_DIR: dataDir });
    expect(busy.code).not.toBe(0);
    expect(busy.stderr).toMatch(/is in use \(a validator is running on it\)/);
    // The user logs in after the backup (a replay is refused); the restored copies do not hold that step.
    expect((await call(server, portal, "/v1/validate", { user: "jdupont", passcode: nextPasscode() })).json.result).toBe("accept");
    expect((await call(server, portal, "/v1/validate", { user: "jdupont", passcode: nextPasscode() })).json.result).toBe("reject");
    await server.stop();

    // Restore into a fresh data directory, with the master key kept apart and put back beside it
    // (from a backup file that lost its private mode on the way: the restored database is 0600 anyway).
    chmodSync(backup, 0o644);
    const restoredDir = join(root, "restored");
    mkdirSync(restoredDir, { mode: 0o700 });
    copyFileSync(join(dataDir, "master.key"), join(restoredDir, "master.key"));
    const restored = await jeton(["restore", backup, "--json"], { JETON_DATA_DIR: restoredDir });
    expect(restored.code, restored.stderr).toBe(0);
    expect(JSON.parse(restored.stdout)).toMatchObject({ movedAside: null, settlement: { tokensAdvanced: 1, carriedForward: null } });
    expect(statSync(join(restoredDir, "jeton.sqlite")).mode & 0o777).toBe(0o600);
    const second = await startServe({ JETON_DATA_DIR: restoredDir });
    servers.push(second);
    await logsInAfterRestore(second, portal);
    await second.stop();

    // Over an existing, stopped database only with --replace, which moves it aside rather than deleting it.
    const replaced = await jeton(["restore", backup, "--replace", "--json"], { JETON_DATA_DIR: dataDir });
    expect(replaced.code, replaced.stderr).toBe(0);
    const aside = JSON.parse(replaced.stdout).movedAside as string;
    expect(existsSync(aside)).toBe(true);
    expect(readdirSync(dataDir).filter((name) => name.startsWith(".jeton.sqlite.restoring"))).toEqual([]);
    expect(JSON.parse(replaced.stdout).settlement.carriedForward).toMatchObject({ revokedApiKeys: 0, higherSteps: 1 });
    const third = await startServe({ JETON_DATA_DIR: dataDir });
    servers.push(third);
    await logsInAfterRestore(third, portal);
    await third.stop();
  }, 300_000);

  it("refuses what is not a Jeton database, and PostgreSQL (pg_dump's job)", async () => {
    const junk = join(root, "junk.sqlite");
    writeFileSync(junk, "not a database at all, just text", { mode: 0o600 });
    const emptyDir = join(root, "empty");
    const unauthenticated = await jeton(["restore", junk, "--unauthenticated"], { JETON_DATA_DIR: emptyDir });
    expect(unauthenticated.code).not.toBe(0);
    expect(unauthenticated.stderr).toMatch(/not a readable SQLite database|not a Jeton database/);
    // Without --unauthenticated a file without its authentication is refused before it is read.
    writeFileSync(join(emptyDir, "master.key"), randomBytes(32).toString("base64"), { mode: 0o600 });
    const refused = await jeton(["restore", junk], { JETON_DATA_DIR: emptyDir });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/has no .*junk\.sqlite\.mac beside it/);
    expect(existsSync(join(emptyDir, "jeton.sqlite"))).toBe(false);
    const postgres = await jeton(["backup", join(root, "pg.sqlite")], { DATABASE_URL: "postgres://127.0.0.1:5432/none" });
    expect(postgres.code).not.toBe(0);
    expect(postgres.stderr).toMatch(/pg_dump/);
  }, 120_000);
});
