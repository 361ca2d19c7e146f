import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { identifyApiKey, listApiKeys, revokeApiKey } from "../../../validator/operations/api-keys.js";
import { addRadiusClient, listRadiusClients, removeRadiusClient } from "../../../validator/operations/radius-clients.js";
import { addStaff, listStaff, removeStaff } from "../../../validator/operations/staff.js";
import { masterKeyFrom } from "../../../validator/secrets/master-key.js";
import { backupSqlite, restoreSqlite } from "../../../validator/storage/sqlite-backup.js";
import { readAudit } from "../../../validator/storage/audit-log.js";
import { referenceCode, referenceStep } from "../../support/reference-totp.js";
import { rememberSecret } from "../../support/secret-registry.js";
import { startValidator, testDatabase, TestClock, type RunningValidator } from "../../support/test-validator.js";

const operator = { id: "local:test", role: "operator", source: "cli" };
const pin = "480271";

describe("a restored backup brings back nothing the database had closed since", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setUp() {
    const database = await testDatabase("sqlite");
    const clock = new TestClock();
    const v = await startValidator(database.location, { clock });
    let open: RunningValidator | null = v;
    cleanups.push(async () => {
      await open?.close();
      await database.drop();
    });
    const file = (database.location as { file: string }).file;
    /** A user with a token and a PIN chosen at first use; returns the token's seed. */
    const user = async (name: string, serial: string) => {
      const seed = randomBytes(32);
      rememberSecret(seed.toString("hex"));
      await v.request("POST", "/v1/tokens", { serial, secretHex: seed.toString("hex") });
      await v.request("POST", `/v1/tokens/${serial}/assign`, { user: name });
      const first = await v.request("POST", "/v1/validate", { user: name, passcode: referenceCode(seed, referenceStep(clock.now())) }, "portal");
      await v.request("POST", "/v1/validate", { user: name, challenge: first.json.challenge.id, response: pin }, "portal");
      return seed;
    };
    rememberSecret(pin);
    const backup = `${file}.backup`;
    cleanups.push(async () => rmSync(backup, { force: true }));
    cleanups.push(async () => rmSync(`${backup}.mac`, { force: true }));
    const key = masterKeyFrom(v.masterKey);
    const closeLive = async () => ((await v.close()), (open = null));
    /** Restores the backup over the database, which is moved aside (and removed after the test). */
    const restore = async (now: number) => {
      const restored = await restoreSqlite(backup, file, { replace: true, now: new Date(now), actor: operator, directWindow: 1, authentication: [key] });
      cleanups.push(async () => rmSync(restored.movedAside!, { force: true }));
      return restored;
    };
    return { v, clock, file, user, backUp: () => backupSqlite(file, backup, key), closeLive, restore, reopen: async () => (open = await startValidator(database.location, { clock, masterKey: v.masterKey })) };
  }

  it("spends the codes shown until the restore and carries forward revocations, disables, staff removals, PIN resets and removed NAS clients", async () => {
    const { v, clock, user, backUp, closeLive, restore, reopen } = await setUp();
    await user("alice", "JT-A");
    await user("bob", "JT-B");
    const carolSeed = await user("carol", "JT-C");
    await addStaff(v.ctx, operator, "alice", "support");
    await addStaff(v.ctx, operator, "carol", "auditor");
    const emergency = await v.request("POST", "/v1/users/bob/emergency", {}, "support");
    rememberSecret(emergency.json.password);
    const nas = await addRadiusClient(v.ctx, operator, { name: "vpn", address: "127.0.0.1", requireMessageAuthenticator: true, language: "en", prompts: {} });
    rememberSecret(nas.secret);
    rememberSecret((await addRadiusClient(v.ctx, operator, { name: "wifi", address: "127.0.0.2", requireMessageAuthenticator: true, language: "en", prompts: {} })).secret);
    await backUp();

    // After the backup: a key revoked, a token disabled as stolen, a staff member removed, a PIN reset
    // (which revokes bob's emergency password), a NAS client removed, and carol logs in.
    const auditorKey = (await listApiKeys(v.ctx)).find((key) => key.role === "auditor")!;
    await revokeApiKey(v.ctx, operator, auditorKey.id);
    await v.request("POST", "/v1/tokens/JT-A/disable", { reason: "stolen" }, "support");
    await removeStaff(v.ctx, operator, "alice");
    await v.request("POST", "/v1/users/bob/pin-reset", {}, "helpdesk");
    await removeRadiusClient(v.ctx, operator, "vpn");
    // carol promoted (not carried: what was opened since is redone by hand); wifi's secret replaced.
    await addStaff(v.ctx, operator, "carol", "helpdesk");
    clock.advance(60);
    await removeRadiusClient(v.ctx, operator, "wifi");
    rememberSecret((await addRadiusClient(v.ctx, operator, { name: "wifi", address: "127.0.0.2", requireMessageAuthenticator: true, language: "en", prompts: {} })).secret);
    const carolCode = pin + referenceCode(carolSeed, referenceStep(clock.now()));
    expect((await v.request("POST", "/v1/validate", { user: "carol", passcode: carolCode }, "portal")).json.result).toBe("accept");
    await closeLive();

    clock.advance(120);
    const restored = await restore(clock.now());
    expect(restored.settlement).toMatchObject({
      tokensAdvanced: 3,
      carriedForward: { revokedApiKeys: 1, disabledTokens: 1, removedStaff: 1, staffRolesLowered: 0, revokedEmergencyPasswords: 1, pinVerifiers: 1, removedRadiusClients: 2 },
    });

    const w = await reopen();
    expect(await identifyApiKey(w.ctx.database.db, v.keys.auditor, clock.now())).toBeNull();
    expect(await identifyApiKey(w.ctx.database.db, v.keys.support, clock.now())).not.toBeNull();
    expect((await w.request("GET", "/v1/tokens/JT-A", undefined, "support")).json).toMatchObject({ status: "disabled", disabledReason: "stolen" });
    expect((await listStaff(w.ctx)).map((member) => [member.user, member.role])).toEqual([["carol", "auditor"]]);
    expect((await w.request("GET", "/v1/users/bob", undefined, "support")).json).toMatchObject({ pinSet: false, emergency: null });
    expect(await listRadiusClients(w.ctx)).toEqual([]);
    // carol's code, used after the backup, is spent; so is every code up to the restore's direct window.
    expect((await w.request("POST", "/v1/validate", { user: "carol", passcode: carolCode }, "portal")).json.result).toBe("reject");
    expect((await w.request("POST", "/v1/validate", { user: "carol", passcode: pin + referenceCode(carolSeed, referenceStep(clock.now()) + 1) }, "portal")).json.result).toBe("reject");
    const { rows } = await sql<{ kind: string }>`SELECT DISTINCT typeof(last_step) AS kind FROM tokens`.execute(w.ctx.database.db);
    expect(rows).toEqual([{ kind: "integer" }]);
    clock.advance(120);
    expect((await w.request("POST", "/v1/validate", { user: "carol", passcode: pin + referenceCode(carolSeed, referenceStep(clock.now())) }, "portal")).json.result).toBe("accept");
    const [entry] = await readAudit(w.ctx.database.db, { event: "database.restore", limit: 1 });
    expect(entry).toMatchObject({ actor: "local:test", result: "ok", detail: { backup: expect.stringMatching(/\.backup$/), carriedForward: { revokedApiKeys: 1 } } });
  });

  it("carries nothing from a database that is not the backup's successor (made afresh), and says so", async () => {
    const { file, user, backUp, closeLive, restore } = await setUp();
    await user("erin", "JT-E");
    await backUp();
    await closeLive();
    // The data directory emptied and a server started afresh on it: every row "absent" from this one.
    rmSync(file, { force: true });
    const fresh = await startValidator({ kind: "sqlite", file });
    await fresh.close();
    const restored = await restore(Date.now());
    expect(restored.settlement.carriedForward).toBeNull();
    expect(restored.settlement.replacedUnreadable).toMatch(/not that backup's successor/);
  });

  it("a damaged database is replaced all the same: nothing carried, the codes still spent, and it says so", async () => {
    const { file, user, backUp, closeLive, restore } = await setUp();
    await user("dave", "JT-D");
    await backUp();
    await closeLive();
    writeFileSync(file, "damaged beyond repair ".repeat(400));
    const restored = await restore(Date.now());
    expect(restored.settlement.carriedForward).toBeNull();
    expect(restored.settlement.replacedUnreadable).toMatch(/not a database|malformed/);
    expect(restored.settlement.tokensAdvanced).toBe(1);
  });
});
