// One rule for user identifiers and serials (common/identifiers.ts) at every front door, on both dialects:
// identifiers compared case-insensitively, the longest accepted identifier served by every route, serials
// and identifiers no URL can name refused; and the migration that normalises stored identifiers, which
// keeps PINs working and refuses to merge two users.
import BetterSqlite3 from "better-sqlite3";
import { randomBytes } from "node:crypto";
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { USER_ID_MAX_LENGTH } from "../../../common/identifiers.js";
import { masterKeyFrom } from "../../../validator/secrets/master-key.js";
import { SeedVault } from "../../../validator/secrets/seed-vault.js";
import { verifierChecks } from "../../../validator/secrets/verifiers.js";
import type { DatabaseLocation } from "../../../validator/storage/database.js";
import { migrationProvider } from "../../../validator/storage/migrations.js";
import { createPrivateFile } from "../../../validator/storage/private-files.js";
import { referenceCode, referenceStep } from "../../support/reference-totp.js";
import { dialects, startValidator, testDatabase, TestClock, validatorForSuite, type RunningValidator } from "../../support/test-validator.js";

const seeds = { JT00000001: randomBytes(32), JT00000002: randomBytes(32), JT00000003: randomBytes(32) };
const pin = "583920";

describe.each(dialects)("user identifiers and serials on %s", (dialect) => {
  let v: RunningValidator;
  const code = (serial: keyof typeof seeds) => referenceCode(seeds[serial], referenceStep(v.clock.millis));
  const path = encodeURIComponent;

  validatorForSuite(dialect, (started) => (v = started));
  beforeAll(async () => {
    for (const [serial, seed] of Object.entries(seeds)) {
      expect((await v.request("POST", "/v1/tokens", { serial, secretHex: seed.toString("hex") })).status).toBe(201);
    }
  });

  async function counts() {
    const db = v.ctx.database.db;
    return {
      users: await db.selectFrom("users").select("name").orderBy("name").execute(),
      audit: (await db.selectFrom("audit_log").select(db.fn.countAll().as("n")).executeTakeFirstOrThrow()).n,
    };
  }

  it("one user whatever the case: tokens, PIN, failures, unlock and audit all meet under one identifier", async () => {
    expect((await v.request("POST", "/v1/tokens/JT00000001/assign", { user: "JDupont" })).json).toMatchObject({ user: "jdupont" });
    expect((await v.request("POST", "/v1/tokens/JT00000002/assign", { user: "JDUPONT" })).json).toMatchObject({ user: "jdupont" });
    const shown = await v.request("GET", "/v1/users/jDuPoNt", undefined, "support");
    expect(shown.json).toMatchObject({ user: "jdupont", tokens: [{ serial: "JT00000001" }, { serial: "JT00000002" }] });

    const opened = await v.request("POST", "/v1/validate", { user: "JDupont", passcode: code("JT00000001") }, "portal");
    expect(opened.json.challenge.kind).toBe("new-pin");
    const answered = await v.request("POST", "/v1/validate", { user: "JDUPONT", challenge: opened.json.challenge.id, response: pin }, "portal");
    expect(answered.json.result).toBe("accept");

    // A PIN guesser cannot spread attempts over spellings: every spelling counts against the one user.
    for (const user of ["JDUPONT", "jdupont", "jDupont"]) {
      expect((await v.request("POST", "/v1/validate", { user, passcode: "000000" + code("JT00000002") }, "portal")).json.result).toBe("reject");
    }
    expect((await v.request("GET", "/v1/users/jdupont", undefined, "support")).json.lockout.failures).toBe(3);
    expect((await v.request("POST", "/v1/users/JDupont/unlock", {}, "support")).json.lockout).toMatchObject({ state: "open", failures: 0 });
    v.clock.advance(60);
    expect((await v.request("POST", "/v1/validate", { user: "JdUpOnT", passcode: pin + code("JT00000002") }, "portal")).json.result).toBe("accept");

    const audit = await v.request("GET", "/v1/audit?user=JDupont", undefined, "auditor");
    expect(audit.json.entries.map((entry: { event: string }) => entry.event)).toEqual(expect.arrayContaining(["token.assign", "user.unlock", "validate"]));
    expect((await counts()).users).toEqual([{ name: "jdupont" }]);
  });

  it("refuses identifiers with surrounding spaces, and . or .., at every front door, changing nothing", async () => {
    const before = await counts();
    const refused: [string, string, unknown, "portal" | "helpdesk" | "support" | "auditor"][] = [
      ["POST", "/v1/validate", { user: " jdupont", passcode: pin + code("JT00000001") }, "portal"],
      ["POST", "/v1/validate", { user: "jdupont ", challenge: "abc", response: pin }, "portal"],
      ["POST", "/v1/tokens/JT00000003/assign", { user: "mmartin\t" }, "helpdesk"],
      ["POST", "/v1/tokens/JT00000003/assign", { user: ".." }, "helpdesk"],
      ["POST", "/v1/tokens/JT00000003/assign", { user: "." }, "helpdesk"],
      ["GET", `/v1/users/${path(" jdupont")}`, undefined, "support"],
      ["POST", `/v1/users/${path("jdupont ")}/unlock`, {}, "support"],
      ["GET", "/v1/audit?user=..", undefined, "auditor"],
    ];
    for (const [method, url, body, role] of refused) {
      const response = await v.request(method, url, body, role);
      expect(response.status, url).toBe(400);
      expect(response.json.fields[0].message, url).toMatch(/no spaces before or after|cannot be identifiers: no URL can name them/);
    }
    expect(await counts()).toEqual(before);
  });

  it(`serves an identifier of the maximum length (${USER_ID_MAX_LENGTH}) through assign, validate, show, unlock and PIN reset`, async () => {
    const longest = "J" + "a".repeat(60) + "@" + "B".repeat(60) + "+" + "c".repeat(USER_ID_MAX_LENGTH - 123);
    expect(longest).toHaveLength(USER_ID_MAX_LENGTH);
    const normalised = longest.toLowerCase();
    expect((await v.request("POST", "/v1/tokens/JT00000003/assign", { user: longest })).json).toMatchObject({ user: normalised });
    v.clock.advance(60);
    const opened = await v.request("POST", "/v1/validate", { user: longest, passcode: code("JT00000003") }, "portal");
    expect(opened.json.challenge.kind).toBe("new-pin");
    expect((await v.request("POST", "/v1/validate", { user: longest, challenge: opened.json.challenge.id, response: pin }, "portal")).json.result).toBe("accept");

    const shown = await v.request("GET", `/v1/users/${path(longest)}`, undefined, "support");
    expect(shown.status).toBe(200);
    expect(shown.json).toMatchObject({ user: normalised, pinSet: true });
    expect((await v.request("POST", `/v1/users/${path(longest)}/unlock`, {}, "support")).status).toBe(200);
    const reset = await v.request("POST", `/v1/users/${path(longest)}/pin-reset`, {}, "support");
    expect(reset.status).toBe(200);
    expect(reset.json.pinSet).toBe(false);

    const tooLong = longest + "x";
    expect((await v.request("POST", "/v1/tokens/JT00000003/assign", { user: tooLong })).status).toBe(400);
    expect([400, 414]).toContain((await v.request("GET", `/v1/users/${path(tooLong)}`, undefined, "support")).status);
  });

  it("refuses the serials . and .. (no URL can name them) wherever a serial is accepted, and only them", async () => {
    for (const serial of [".", ".."]) {
      const registered = await v.request("POST", "/v1/tokens", { serial, secretHex: randomBytes(32).toString("hex") });
      expect(registered.status).toBe(400);
      expect(registered.json.fields).toEqual([{ field: "serial", message: '"." and ".." cannot be identifiers: no URL can name them' }]);
      expect((await v.request("GET", `/v1/audit?serial=${serial}`, undefined, "auditor")).status).toBe(400);
    }
    expect((await v.request("POST", "/v1/tokens", { serial: "...", secretHex: randomBytes(32).toString("hex") })).status).toBe(201);
    expect((await v.request("GET", "/v1/tokens/...", undefined, "support")).json).toMatchObject({ serial: "..." });
  });
});

/** A database migrated up to, but not including, the migration that normalises identifiers. */
async function databaseBeforeNormalisation(location: DatabaseLocation): Promise<Kysely<any>> {
  // As the validator creates it: private to its account (it refuses a database others can read).
  if (location.kind === "sqlite") createPrivateFile(location.file);
  const db =
    location.kind === "sqlite"
      ? new Kysely<any>({ dialect: new SqliteDialect({ database: new BetterSqlite3(location.file) }) })
      : new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: location.url }) }) });
  const provider = migrationProvider(location.kind);
  const names = Object.keys(await provider.getMigrations()).sort();
  const normalisation = names.findIndex((name) => name.endsWith("user-identifiers-normalised"));
  expect(normalisation).toBeGreaterThan(0);
  const { error } = await new Migrator({ db, provider }).migrateTo(names[normalisation - 1]!);
  if (error) throw error;
  return db;
}

describe.each(dialects)("the migration to normalised identifiers on %s", (dialect) => {
  const masterKey = randomBytes(32);
  const master = masterKeyFrom(masterKey);
  const checks = verifierChecks(master);
  const vault = new SeedVault(master);
  const clock = new TestClock();
  const seed = randomBytes(32);
  const emergencyPassword = "k7m2p9x4qa";
  const dropped: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const drop of dropped) await drop();
  });

  async function earlierDatabase(users: string[]) {
    const database = await testDatabase(dialect);
    dropped.push(database.drop);
    const db = await databaseBeforeNormalisation(database.location);
    for (const name of users) {
      await db.insertInto("users").values({ name, pin_verifier: checks.pinVerifier(name, pin), failures: 0, created_at: clock.millis }).execute();
    }
    return { location: database.location, db };
  }

  it("renames users to the normalised spelling: tokens, PIN and emergency password keep working; the audit log links the spellings", async () => {
    const { location, db } = await earlierDatabase(["JDupont", "mmartin"]);
    const sealed = vault.seal("JT00000001", seed);
    await db
      .insertInto("tokens")
      .values({ serial: "JT00000001", user_name: "JDupont", algorithm: "SHA256", digits: 6, period: 60, t0: 0, sealed_secret: sealed.ciphertext, key_id: sealed.keyId, offset_steps: 0, created_at: clock.millis })
      .execute();
    await db
      .insertInto("emergency_passwords")
      .values({ user_name: "JDupont", verifier: checks.emergencyVerifier("JDupont", emergencyPassword), expires_at: clock.millis + 3_600_000, issued_at: clock.millis, issued_by: "key:test" })
      .execute();
    await db.destroy();

    const v = await startValidator(location, { masterKey, clock });
    try {
      const users = await v.ctx.database.db.selectFrom("users").select("name").orderBy("name").execute();
      expect(users).toEqual([{ name: "jdupont" }, { name: "mmartin" }]);
      expect((await v.request("GET", "/v1/users/JDupont", undefined, "support")).json).toMatchObject({
        user: "jdupont",
        pinSet: true,
        tokens: [{ serial: "JT00000001", status: "active" }],
        emergency: { expiresAt: new Date(clock.millis + 3_600_000).toISOString() },
      });
      // The PIN and the emergency password were keyed to "JDupont": they still open the account.
      expect((await v.request("POST", "/v1/validate", { user: "jdupont", passcode: pin + emergencyPassword }, "portal")).json.result).toBe("accept");
      const code = referenceCode(seed, referenceStep(clock.millis));
      expect((await v.request("POST", "/v1/validate", { user: "JDUPONT", passcode: pin + code }, "portal")).json.result).toBe("accept");
      expect((await v.request("POST", "/v1/validate", { user: "jdupont", passcode: "111111" + code }, "portal")).json.result).toBe("reject");

      const audit = await v.request("GET", "/v1/audit?user=jdupont", undefined, "auditor");
      expect(audit.json.entries).toEqual(
        expect.arrayContaining([expect.objectContaining({ event: "user.rename", actor: "migration:user-identifiers-normalised", detail: expect.objectContaining({ previous: "JDupont" }) })]),
      );

      // The next PIN the user chooses is keyed to the normalised identifier.
      await v.request("POST", "/v1/users/jdupont/pin-reset", {}, "support");
      clock.advance(60);
      const opened = await v.request("POST", "/v1/validate", { user: "jdupont", passcode: referenceCode(seed, referenceStep(clock.millis)) }, "portal");
      expect((await v.request("POST", "/v1/validate", { user: "jdupont", challenge: opened.json.challenge.id, response: "740385" }, "portal")).json.result).toBe("accept");
      const stored = await v.ctx.database.db.selectFrom("users").select("pin_verifier").where("name", "=", "jdupont").executeTakeFirstOrThrow();
      expect(stored.pin_verifier).toBe(checks.pinVerifier("jdupont", "740385"));
    } finally {
      await v.close();
    }
  });

  it("refuses to merge two users, naming them, and changes nothing until one of each pair is gone", async () => {
    const { location, db } = await earlierDatabase(["JDupont", "jdupont", "M.Martin", "m.martin", "Solo"]);
    await db.destroy();
    await expect(startValidator(location, { masterKey, clock })).rejects.toThrow(
      /these users would become one: JDupont = jdupont; M\.Martin = m\.martin\. Nothing was changed/,
    );

    const after = await databaseBeforeNormalisation(location);
    try {
      expect((await after.selectFrom("users").select("name").execute()).map((row) => row.name).sort()).toEqual(["JDupont", "M.Martin", "Solo", "jdupont", "m.martin"]);
      const migrations = await after.selectFrom("kysely_migration").select("name").execute();
      expect(migrations.map((row) => row.name).filter((name: string) => name.endsWith("user-identifiers-normalised"))).toEqual([]);
      await after.deleteFrom("users").where("name", "in", ["jdupont", "M.Martin"]).execute();
    } finally {
      await after.destroy();
    }
    const v = await startValidator(location, { masterKey, clock });
    try {
      const users = await v.ctx.database.db.selectFrom("users").select("name").orderBy("name").execute();
      expect(users.map((row) => row.name)).toEqual(["jdupont", "m.martin", "solo"]);
    } finally {
      await v.close();
    }
  });
});
