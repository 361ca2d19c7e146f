import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { postgresAdminUrl, postgresAvailable } from "../../support/postgres.js";
import { referenceCode, referenceStep } from "../../support/reference-totp.js";
import { startValidator, TestClock, testDatabase, type RunningValidator } from "../../support/test-validator.js";

describe.skipIf(!postgresAvailable)("two validator instances on one PostgreSQL", () => {
  let first: RunningValidator;
  let second: RunningValidator;
  let drop: () => Promise<void>;
  let databaseName: string;
  const secret = randomBytes(32);
  const clock = new TestClock();

  beforeAll(async () => {
    const database = await testDatabase("postgres");
    drop = database.drop;
    databaseName = new URL((database.location as { url: string }).url).pathname.slice(1);
    first = await startValidator(database.location, { clock });
    second = await startValidator(database.location, { clock, masterKey: first.masterKey });
    await first.request("POST", "/v1/tokens", { serial: "JT00000100", secretHex: secret.toString("hex") });
    await first.request("POST", "/v1/tokens/JT00000100/assign", { user: "race" });
    const opened = await first.request("POST", "/v1/validate", { user: "race", passcode: code() }, "portal");
    await second.request("POST", "/v1/validate", { user: "race", challenge: opened.json.challenge.id, response: "583920" }, "portal");
    clock.advance(60);
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
    await drop?.();
  });

  const code = (drift = 0) => referenceCode(secret, referenceStep(clock.millis) + drift);

  it("accepts one passcode exactly once among 60 parallel submissions to both instances", async () => {
    const passcode = "583920" + code();
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, index) =>
        (index % 2 ? first : second).request("POST", "/v1/validate", { user: "race", passcode }, "portal"),
      ),
    );
    expect(answers.filter((answer) => answer.json.result === "accept")).toHaveLength(1);
    expect(answers.filter((answer) => answer.json.result === "reject")).toHaveLength(59);
  });

  it("answers one next-code challenge once when both instances receive the answer in parallel", async () => {
    clock.advance(60);
    // Clear the previous test's failures first: an unlock voids the challenges open at that moment.
    await first.request("POST", "/v1/users/race/unlock", {}, "support");
    const opened = await first.request("POST", "/v1/validate", { user: "race", passcode: "583920" + code(4) }, "portal");
    expect(opened.json.challenge.kind).toBe("next-code");
    const body = { user: "race", challenge: opened.json.challenge.id, response: code(5) };
    const answers = await Promise.all(Array.from({ length: 20 }, (_, index) => (index % 2 ? first : second).request("POST", "/v1/validate", body, "portal")));
    expect(answers.filter((answer) => answer.json.result === "accept")).toHaveLength(1);
  });

  it("keeps serving after PostgreSQL drops its idle connections", async () => {
    const admin = new pg.Client({ connectionString: postgresAdminUrl });
    await admin.connect();
    await first.request("POST", "/v1/users/race/unlock", {}, "support");
    const terminated = await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", [databaseName]);
    await admin.end();
    expect(terminated.rowCount).toBeGreaterThan(0);
    clock.advance(60);
    // The token's learned offset is +5 since the next-code test.
    const answer = await first.request("POST", "/v1/validate", { user: "race", passcode: "583920" + code(5) }, "portal");
    expect(answer.json, answer.text).toMatchObject({ result: "accept" });
  });
});
