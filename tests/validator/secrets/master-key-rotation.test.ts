import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { masterKeyFrom } from "../../../validator/secrets/master-key.js";
import type { DatabaseLocation } from "../../../validator/storage/database.js";
import { openValidator } from "../../../validator/validator.js";
import { rotateMasterKey } from "../../../validator/operations/master-key-rotation.js";
import { addRadiusClient, loadRadiusClients } from "../../../validator/operations/radius-clients.js";
import { jeton, jetonBin } from "../../support/cli.js";
import { referenceCode, referenceStep } from "../../support/reference-totp.js";
import { dialects, startValidator, testDatabase, TestClock, type RunningValidator } from "../../support/test-validator.js";

const pins: Record<string, string> = { alice: "583920", bob: "740385", carol: "918273" };

describe.each(dialects)("master-key rotation on %s", (dialect) => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  const keyDir = mkdtempSync(join(tmpdir(), "jeton-keys-"));
  cleanup.push(() => rmSync(keyDir, { recursive: true, force: true }));
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const oldId = masterKeyFrom(oldKey).id;
  const newId = masterKeyFrom(newKey).id;
  const keyFile = (name: string, key: Buffer) => {
    const file = join(keyDir, name);
    writeFileSync(file, key.toString("base64") + "\n", { mode: 0o600 });
    return file;
  };
  const oldFile = keyFile("old.key", oldKey);
  const newFile = keyFile("new.key", newKey);
  const clock = new TestClock();
  const seeds: Record<string, Buffer> = {};

  const environment = (location: DatabaseLocation, extra: Record<string, string>) => ({
    ...(location.kind === "sqlite" ? { JETON_DATA_DIR: dirname(location.file) } : { DATABASE_URL: location.url }),
    ...extra,
  });
  const status = async (location: DatabaseLocation) => {
    const result = await jeton(["keys", "status", "--json"], environment(location, {}));
    expect(result.stderr).toBe("");
    return JSON.parse(result.stdout) as { currentKeyId: string; usage: { label: string; byKey: Record<string, number> }[]; keysStillInUse: string[] };
  };
  const countOf = (s: Awaited<ReturnType<typeof status>>, label: string) => s.usage.find((usage) => usage.label === label)!.byKey;
  async function login(v: RunningValidator, user: string, secret?: string) {
    clock.advance(60);
    const passcode = pins[user]! + (secret ?? referenceCode(seeds[user]!, referenceStep(clock.millis)));
    return (await v.request("POST", "/v1/validate", { user, passcode }, "portal")).json.result as string;
  }
  const pinVerifierOf = async (v: RunningValidator, user: string) =>
    (await v.ctx.database.db.selectFrom("users").select("pin_verifier").where("name", "=", user).executeTakeFirstOrThrow()).pin_verifier!;

  const operator = { id: "local:test", role: "operator", source: "cli" } as const;
  const radiusSecret = randomBytes(24).toString("base64url");

  it("re-seals in batches; killed half-way, both keys serve and a second run finishes; verifiers are re-keyed at each next login; the old key retires when nothing uses it", async () => {
    const database = await testDatabase(dialect);
    cleanup.push(database.drop);
    const { location } = database;

    // Before: three users with a token and a PIN, bob with an emergency password, all under the old key.
    let v = await startValidator(location, { masterKey: oldKey, clock });
    let emergency = "";
    try {
      for (const [index, user] of ["alice", "bob", "carol"].entries()) {
        const serial = `JT0000000${index + 1}`;
        seeds[user] = randomBytes(32);
        expect((await v.request("POST", "/v1/tokens", { serial, secretHex: seeds[user]!.toString("hex") })).status).toBe(201);
        await v.request("POST", `/v1/tokens/${serial}/assign`, { user });
        const opened = await v.request("POST", "/v1/validate", { user, passcode: referenceCode(seeds[user]!, referenceStep(clock.millis)) }, "portal");
        expect((await v.request("POST", "/v1/validate", { user, challenge: opened.json.challenge.id, response: pins[user] }, "portal")).json.result).toBe("accept");
      }
      emergency = (await v.request("POST", "/v1/users/bob/emergency", {}, "support")).json.password;
      expect(await pinVerifierOf(v, "alice")).toMatch(new RegExp(`^key:${oldId}:`));
      // A RADIUS client's shared secret is sealed under the master key too.
      await addRadiusClient(v.ctx, operator, { name: "vpn", address: "127.0.0.1", secret: radiusSecret, requireMessageAuthenticator: true, language: "fr", prompts: {} });
    } finally {
      await v.close();
    }
    const before = await status(location);
    expect(before.currentKeyId).toBe(oldId);
    expect(countOf(before, "token seeds")).toEqual({ [oldId]: 3 });

    // A rotation killed (SIGKILL) after its first one-token batch, during its pause.
    const rotating = spawn(process.execPath, [jetonBin, "keys", "rotate-master", "--new-key-file", newFile, "--batch-size", "1", "--pause-ms", "30000"], {
      env: { PATH: process.env.PATH, ...environment(location, { JETON_MASTER_KEY_FILE: oldFile }) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    cleanup.push(() => void (rotating.exitCode === null && rotating.kill("SIGKILL")));
    const exited = new Promise((resolve) => rotating.once("exit", resolve));
    await new Promise<void>((resolve, reject) => {
      let said = "";
      rotating.stderr.on("data", (chunk: Buffer) => {
        said += chunk.toString();
        if (said.includes("token seeds: 1 re-sealed")) resolve();
      });
      rotating.once("exit", (code) => reject(new Error(`rotate-master exited (${code}) before its first batch: ${said}`)));
    });
    rotating.kill("SIGKILL");
    await exited;

    const halfway = await status(location);
    expect(halfway.currentKeyId).toBe(newId);
    expect(countOf(halfway, "token seeds")).toEqual({ [newId]: 1, [oldId]: 2 });
    expect(halfway.keysStillInUse).toEqual([oldId]);

    // Only the new key: refused, saying what is left and what to configure. Only the old key: refused too.
    await expect(openValidator({ database: location, masterKey: masterKeyFrom(newKey), warn: () => {} })).rejects.toThrow(
      new RegExp(`2 token seeds under master key ${oldId}.*JETON_PREVIOUS_MASTER_KEY_FILE`),
    );
    await expect(openValidator({ database: location, masterKey: masterKeyFrom(oldKey), warn: () => {} })).rejects.toThrow(new RegExp(`belongs to master key ${newId}`));

    // Both keys: every user logs in (alice's seed is re-sealed, bob's and carol's are not yet).
    v = await startValidator(location, { masterKey: newKey, previousMasterKey: oldKey, clock });
    try {
      expect(await login(v, "alice")).toBe("accept");
      expect(await login(v, "bob", emergency)).toBe("accept");
      // The accepted passcode re-keyed the verifiers it proved; carol has not logged in.
      expect(await pinVerifierOf(v, "alice")).toMatch(new RegExp(`^key:${newId}:`));
      expect(await pinVerifierOf(v, "bob")).toMatch(new RegExp(`^key:${newId}:`));
      expect(await pinVerifierOf(v, "carol")).toMatch(new RegExp(`^key:${oldId}:`));
      // A seed still fingerprinted under the old key is still found as a duplicate.
      const twin = await v.request("POST", "/v1/tokens", { serial: "JT00000009", secretHex: seeds.carol!.toString("hex") });
      expect(twin.status).toBe(409);
    } finally {
      await v.close();
    }

    // The second run finishes (from the environment of the validators: new key, previous key).
    const finished = await jeton(["keys", "rotate-master", "--new-key-file", newFile, "--json"], environment(location, { JETON_MASTER_KEY_FILE: newFile, JETON_PREVIOUS_MASTER_KEY_FILE: oldFile }));
    expect(finished.stderr).toBe("");
    expect(JSON.parse(finished.stdout).resealed).toEqual({ "token seeds": 2, "RADIUS client secrets": 1 });
    const after = await status(location);
    expect(countOf(after, "token seeds")).toEqual({ [newId]: 3 });
    expect(countOf(after, "PIN verifiers")).toEqual({ [newId]: 2, [oldId]: 1 });
    expect(countOf(after, "emergency-password verifiers")).toEqual({ [newId]: 1 });
    expect(after.keysStillInUse).toEqual([oldId]);
    const text = await jeton(["keys", "status"], environment(location, {}));
    expect(text.stdout).toContain(`PIN verifiers: 3, 1 still under ${oldId}`);

    // carol's PIN verifier still needs the old key; her next login re-keys it, and the old key can go.
    await expect(openValidator({ database: location, masterKey: masterKeyFrom(newKey), warn: () => {} })).rejects.toThrow(/1 PIN verifiers under master key/);
    const warnings: string[] = [];
    v = await startValidator(location, { masterKey: newKey, previousMasterKey: oldKey, clock });
    try {
      expect(await login(v, "carol")).toBe("accept");
      expect(await login(v, "carol", "000000")).toBe("reject");
    } finally {
      await v.close();
    }
    expect((await status(location)).keysStillInUse).toEqual([]);
    const retiring = await openValidator({ database: location, masterKey: masterKeyFrom(newKey), previousMasterKey: masterKeyFrom(oldKey), warn: (line) => warnings.push(line) });
    await retiring.database.close();
    expect(warnings.join("\n")).toMatch(/can be removed and that key retired/);

    v = await startValidator(location, { masterKey: newKey, clock });
    try {
      // bob's emergency password, re-keyed at his last login, works with the new key alone (a token login then revokes it).
      expect(await login(v, "bob", emergency)).toBe("accept");
      for (const user of ["alice", "bob", "carol"]) expect(await login(v, user)).toBe("accept");
      expect(await login(v, "alice", "000000")).toBe("reject");
      const twin = await v.request("POST", "/v1/tokens", { serial: "JT00000009", secretHex: seeds.alice!.toString("hex") });
      expect(twin.status).toBe(409);
      const audit = await v.request("GET", "/v1/audit?limit=1000", undefined, "auditor");
      expect(JSON.stringify(audit.json)).toContain("master-key.rotate");
      // The RADIUS client's secret opens under the new key alone.
      expect((await loadRadiusClients(v.ctx)).map((client) => client.secret.toString())).toEqual([radiusSecret]);
    } finally {
      await v.close();
    }
  }, 300_000);

  it("an instance not yet restarted with both keys answers an error, not a reject, for a verifier re-keyed by another: no failure counted", async () => {
    const database = await testDatabase(dialect);
    cleanup.push(database.drop);
    const notRestarted = await startValidator(database.location, { masterKey: oldKey, clock });
    cleanup.push(() => notRestarted.close());
    const seed = randomBytes(32);
    await notRestarted.request("POST", "/v1/tokens", { serial: "JT00000077", secretHex: seed.toString("hex") });
    await notRestarted.request("POST", "/v1/tokens/JT00000077/assign", { user: "dora" });
    const first = await notRestarted.request("POST", "/v1/validate", { user: "dora", passcode: referenceCode(seed, referenceStep(clock.millis)) }, "portal");
    await notRestarted.request("POST", "/v1/validate", { user: "dora", challenge: first.json.challenge.id, response: pins.alice }, "portal");
    // Step 2 of the rotation on one instance: its next accepted passcode re-keys dora's PIN under the new key.
    const restarted = await startValidator(database.location, { masterKey: newKey, previousMasterKey: oldKey, clock });
    cleanup.push(() => restarted.close());
    clock.advance(60);
    expect((await restarted.request("POST", "/v1/validate", { user: "dora", passcode: pins.alice + referenceCode(seed, referenceStep(clock.millis)) }, "portal")).json.result).toBe("accept");
    expect(await pinVerifierOf(restarted, "dora")).toMatch(new RegExp(`^key:${newId}:`));

    clock.advance(60);
    const answered = await notRestarted.request("POST", "/v1/validate", { user: "dora", passcode: pins.alice + referenceCode(seed, referenceStep(clock.millis)) }, "portal");
    expect(answered.status).toBe(500);
    expect((await restarted.request("GET", "/v1/users/dora", undefined, "support")).json.lockout.failures).toBe(0);
    expect(notRestarted.logLines().some((line) => String(line.err?.message ?? "").includes(`master key ${newId}, which this instance has not loaded`))).toBe(true);
    // From then on it decides nothing for anyone, so the error tells a prober no more than that the
    // instance is outdated (an unknown identifier answers the same), and its health check says so.
    expect((await notRestarted.request("POST", "/v1/validate", { user: "nobody-here", passcode: "123456123456" }, "portal")).status).toBe(500);
    const health = await fetch(`${notRestarted.url}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: "outdated", message: expect.stringContaining("JETON_PREVIOUS_MASTER_KEY_FILE") });
    expect((await fetch(`${restarted.url}/health`)).status).toBe(200);
  }, 120_000);

  it("refuses a rotation after which verifiers would be under two keys besides the new one, and changes nothing", async () => {
    const database = await testDatabase(dialect);
    cleanup.push(database.drop);
    const choosePin = async (v: RunningValidator, user: string, serial: string) => {
      const seed = randomBytes(32);
      await v.request("POST", "/v1/tokens", { serial, secretHex: seed.toString("hex") });
      await v.request("POST", `/v1/tokens/${serial}/assign`, { user });
      const first = await v.request("POST", "/v1/validate", { user, passcode: referenceCode(seed, referenceStep(clock.millis)) }, "portal");
      await v.request("POST", "/v1/validate", { user, challenge: first.json.challenge.id, response: pins.bob }, "portal");
    };
    // bob's PIN under the old key; A→B rotated; erin's PIN chosen under the new key; bob never logs in.
    const before = await startValidator(database.location, { masterKey: oldKey, clock });
    await choosePin(before, "bob", "JT00000081");
    await before.close();
    const during = await startValidator(database.location, { masterKey: newKey, previousMasterKey: oldKey, clock });
    cleanup.push(() => during.close());
    await rotateMasterKey(during.ctx.database, operator, masterKeyFrom(newKey), [masterKeyFrom(oldKey)], { batchSize: 100, pauseMs: 0 });
    await choosePin(during, "erin", "JT00000082");
    const third = masterKeyFrom(randomBytes(32));
    const refused = rotateMasterKey(during.ctx.database, operator, third, [masterKeyFrom(newKey), masterKeyFrom(oldKey)], { batchSize: 100, pauseMs: 0 });
    await expect(refused).rejects.toThrow(new RegExp(`verifiers are still under master keys (${oldId}, ${newId}|${newId}, ${oldId}).*Nothing was changed`));
    expect((await status(database.location)).currentKeyId).toBe(newId);
  }, 120_000);

  it("refuses a key it cannot use and changes nothing", async () => {
    const database = await testDatabase(dialect);
    cleanup.push(database.drop);
    const v = await startValidator(database.location, { masterKey: oldKey, clock });
    await v.request("POST", "/v1/tokens", { serial: "JT00000001", secretHex: randomBytes(32).toString("hex") });
    await v.close();
    const stranger = keyFile(`stranger-${dialect}.key`, randomBytes(32));
    const refused = await jeton(["keys", "rotate-master", "--new-key-file", newFile], environment(database.location, { JETON_MASTER_KEY_FILE: stranger }));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(new RegExp(`belongs to master key ${oldId}, which is none of the keys given`));
    const unchanged = await status(database.location);
    expect(unchanged.currentKeyId).toBe(oldId);
    expect(countOf(unchanged, "token seeds")).toEqual({ [oldId]: 1 });
  }, 120_000);
});
