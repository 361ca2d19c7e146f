import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addStaff } from "../../../validator/operations/staff.js";
import { holdUserRow, postgresAvailable } from "../../support/postgres.js";
import { referenceCode, referenceStep } from "../../support/reference-totp.js";
import { startValidator, TestClock, testDatabase, type DialectName, type RunningValidator } from "../../support/test-validator.js";

const setups: { name: string; dialect: DialectName; instances: number }[] = [
  { name: "SQLite, one instance", dialect: "sqlite", instances: 1 },
  ...(postgresAvailable ? [{ name: "PostgreSQL, two instances", dialect: "postgres" as const, instances: 2 }] : []),
];

/**
 * Concurrent attempts must end exactly as some sequential order would. Locking starts at the 10th failure
 * here (no throttle before it) so the exact moment of locking is visible under load.
 */
describe.each(setups)("concurrency: $name", ({ dialect, instances }) => {
  const clock = new TestClock();
  let validators: RunningValidator[] = [];
  let drop: () => Promise<void>;
  let serials = 0;

  beforeAll(async () => {
    const database = await testDatabase(dialect);
    drop = database.drop;
    const first = await startValidator(database.location, { clock, policy: { throttleAfter: 10, lockAfter: 10 } });
    validators = [first];
    for (let index = 1; index < instances; index++) {
      validators.push(await startValidator(database.location, { clock, masterKey: first.masterKey, policy: { throttleAfter: 10, lockAfter: 10 } }));
    }
  });
  afterAll(async () => {
    for (const validator of validators) await validator.close();
    await drop?.();
  });

  const code = (secret: Buffer, drift = 0) => referenceCode(secret, referenceStep(clock.millis) + drift);
  /** Spreads requests over the instances, all at once. */
  const inParallel = (count: number, body: (index: number) => Record<string, string>) =>
    Promise.all(Array.from({ length: count }, (_, index) => validators[index % validators.length]!.request("POST", "/v1/validate", body(index), "portal")));
  const results = (answers: { json: { result: string } }[]) =>
    answers.reduce<Record<string, number>>((counts, answer) => ({ ...counts, [answer.json.result]: (counts[answer.json.result] ?? 0) + 1 }), {});
  const auditOf = (user: string) =>
    validators[0]!.ctx.database.db.selectFrom("audit_log").select(["id", "event", "result", "detail"]).where("user_name", "=", user).orderBy("id").execute();

  async function userWithPin(user: string) {
    const v = validators[0]!;
    const secret = randomBytes(32);
    const serial = `JT${String(++serials).padStart(8, "0")}`;
    await v.request("POST", "/v1/tokens", { serial, secretHex: secret.toString("hex") });
    await v.request("POST", `/v1/tokens/${serial}/assign`, { user });
    const opened = await v.request("POST", "/v1/validate", { user, passcode: code(secret) }, "portal");
    await v.request("POST", "/v1/validate", { user, challenge: opened.json.challenge.id, response: "583920" }, "portal");
    clock.advance(60);
    return secret;
  }

  it("1 000 concurrent submissions of one valid passcode: exactly one accept", async () => {
    const secret = await userWithPin("same.code");
    const passcode = "583920" + code(secret);
    const answers = await inParallel(1000, () => ({ user: "same.code", passcode }));
    expect(results(answers).accept).toBe(1);
    const accepts = (await auditOf("same.code")).filter((entry) => entry.event === "validate" && entry.result === "accept");
    expect(accepts).toHaveLength(1);
  });

  it("concurrent wrong passcodes: the failure count and the moment of locking are exact", async () => {
    await userWithPin("many.wrong");
    const answers = await inParallel(200, () => ({ user: "many.wrong", passcode: "583920000000" }));
    expect(results(answers)).toEqual({ reject: 200 });
    const user = await validators[0]!.request("GET", "/v1/users/many.wrong", undefined, "support");
    expect(user.json.lockout).toEqual({ state: "locked", failures: 10 });
    const decisions = (await auditOf("many.wrong")).filter((entry) => entry.event === "validate" && entry.result === "reject");
    const reasons = decisions.map((entry) => JSON.parse(entry.detail!).reason);
    // Sequential order: ten evaluated failures, then nothing but "locked".
    expect(reasons).toEqual([...Array(10).fill("bad-passcode"), ...Array(190).fill("locked")]);
  });

  it("concurrent use of one emergency password behaves as sequential use: accepted until a token code revokes it", async () => {
    const secret = await userWithPin("emergency.race");
    const password = (await validators[0]!.request("POST", "/v1/users/emergency.race/emergency", {}, "support")).json.password;
    const burst = await inParallel(50, () => ({ user: "emergency.race", passcode: "583920" + password }));
    expect(results(burst)).toEqual({ accept: 50 });

    const tokenPasscode = "583920" + code(secret);
    const mixed = await inParallel(41, (index) => ({ user: "emergency.race", passcode: index === 20 ? tokenPasscode : "583920" + password }));
    expect(mixed[20]!.json.result).toBe("accept");
    const audit = (await auditOf("emergency.race")).filter((entry) => entry.event === "validate").slice(-41);
    const tokenAccept = audit.findIndex((entry) => entry.result === "accept" && JSON.parse(entry.detail!).via === "token");
    expect(tokenAccept).toBeGreaterThanOrEqual(0);
    // Before the token's accept every emergency use was accepted; after it, every one was refused.
    expect(audit.slice(0, tokenAccept).every((entry) => entry.result === "accept")).toBe(true);
    expect(audit.slice(tokenAccept + 1).every((entry) => entry.result === "reject")).toBe(true);
    expect(results(mixed).accept).toBe(tokenAccept + 1);
  });

  it("concurrent answers to one next-code challenge: exactly one accept", async () => {
    const secret = await userWithPin("next.race");
    const opened = await validators[0]!.request("POST", "/v1/validate", { user: "next.race", passcode: "583920" + code(secret, 4) }, "portal");
    expect(opened.json.challenge.kind).toBe("next-code");
    const answers = await inParallel(100, () => ({ user: "next.race", challenge: opened.json.challenge.id, response: code(secret, 5) }));
    expect(results(answers).accept).toBe(1);
    const token = await validators[0]!.request("GET", `/v1/tokens/JT${String(serials).padStart(8, "0")}`);
    expect(token.json.offsetSteps).toBe(5);
  });
});

describe.skipIf(!postgresAvailable)("staff added while a colleague's change runs (PostgreSQL, read committed)", () => {
  it("a PIN reset queued behind `staff add` sees the new staff member and is refused", async () => {
    const database = await testDatabase("postgres");
    const v = await startValidator(database.location);
    let held: Awaited<ReturnType<typeof holdUserRow>> | undefined;
    try {
      await v.request("POST", "/v1/tokens", { serial: "RACE-1", secretHex: randomBytes(32).toString("hex") });
      await v.request("POST", "/v1/tokens/RACE-1/assign", { user: "racer" });
      // Another session holds the user's row, so both changes queue behind it: staff add first, then the reset.
      held = await holdUserRow((database.location as { url: string }).url, "racer");
      const added = addStaff(v.ctx, { id: "local:test", role: "operator", source: "cli" }, "racer", "support");
      await held.waiters(1);
      const reset = v.request("POST", "/v1/users/racer/pin-reset", {}, "support");
      await held.waiters(2);
      await held.release();
      await added;
      // Checked before taking the row, the reset would have read "not staff" while staff add waited, then written.
      expect((await reset).status).toBe(403);
      const user = await v.request("GET", "/v1/users/racer", undefined, "support");
      expect(user.json).toMatchObject({ staffRole: "support" });
    } finally {
      await held?.end();
      await v.close();
      await database.drop();
    }
  });
});
