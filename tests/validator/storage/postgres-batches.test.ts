import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { respondToChallenge, validatePasscode } from "../../../validator/operations/validation.js";
import type { Actor } from "../../../validator/storage/audit-log.js";
import { postgresAvailable } from "../../support/postgres.js";
import { referenceCode, referenceStep } from "../../support/reference-totp.js";
import type { RoundTripCounter } from "../../support/round-trip-counter.js";
import { countedValidatorForSuite, type RunningValidator } from "../../support/test-validator.js";

/**
 * On PostgreSQL, attempts that arrive together share one transaction of two round trips
 * (storage/postgres-attempts.ts), and one attempt's failing write does not fail the others.
 */
describe.runIf(postgresAvailable)("PostgreSQL attempt batches", () => {
  let counter: RoundTripCounter;
  let v: RunningValidator;
  let serials = 0;
  const actor: Actor = { id: "batches", role: "portal", source: "test" };
  countedValidatorForSuite((started, proxy) => ((v = started), (counter = proxy)));

  const code = (secret: Buffer) => referenceCode(secret, referenceStep(v.clock.millis));

  /** A user who has chosen PIN 583920, with the token's current step still unused. */
  async function userWithPin(user: string): Promise<Buffer> {
    const secret = randomBytes(32);
    const serial = `JT${String(++serials).padStart(8, "0")}`;
    await v.request("POST", "/v1/tokens", { serial, secretHex: secret.toString("hex") });
    await v.request("POST", `/v1/tokens/${serial}/assign`, { user });
    const opened = await validatePasscode(v.ctx, actor, user, code(secret));
    if (opened.result !== "challenge") throw new Error(`expected a new-PIN challenge, got ${JSON.stringify(opened)}`);
    expect((await respondToChallenge(v.ctx, actor, user, opened.id, "583920")).result).toBe("accept");
    return secret;
  }

  async function batchSizes(): Promise<{ sum: number; count: number }> {
    const text = await v.ctx.metrics.registry.metrics();
    const value = (series: string) => Number(new RegExp(`^jeton_db_group_commit_batch_size_${series} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
    return { sum: value("sum"), count: value("count") };
  }

  const failuresOf = async (user: string) =>
    (await v.ctx.database.db.selectFrom("users").select("failures").where("name", "=", user).executeTakeFirstOrThrow()).failures;

  it("thirty users' attempts at once: each decided on its own state, in a few round trips instead of sixty", async () => {
    const users = Array.from({ length: 30 }, (_, index) => `batched.${index}`);
    const secrets: Buffer[] = [];
    for (const user of users) secrets.push(await userWithPin(user));
    v.clock.advance(60);

    const before = counter.roundTrips;
    const batchesBefore = await batchSizes();
    // Every third attempt is wrong: accepts and rejects share the batch.
    const decisions = await Promise.all(users.map((user, index) => validatePasscode(v.ctx, actor, user, "583920" + (index % 3 === 2 ? "000000" : code(secrets[index]!)))));
    const roundTrips = counter.roundTrips - before;

    expect(decisions.map((decision) => decision.result)).toEqual(users.map((_, index) => (index % 3 === 2 ? "reject" : "accept")));
    for (const [index, user] of users.entries()) expect(await failuresOf(user)).toBe(index % 3 === 2 ? 1 : 0);
    const audited = await v.ctx.database.db.selectFrom("audit_log").select(["user_name", "result"]).where("user_name", "in", users).where("at", "=", v.clock.millis).execute();
    expect(audited).toHaveLength(30);
    expect(roundTrips).toBeGreaterThan(0);
    expect(roundTrips).toBeLessThanOrEqual(8);
    // Operators see the batching in /metrics: 30 attempts in at most 4 commits.
    const batchesAfter = await batchSizes();
    expect(batchesAfter.sum - batchesBefore.sum).toBe(30);
    expect(batchesAfter.count - batchesBefore.count).toBeLessThanOrEqual(4);
  });

  it("one attempt whose write fails: its error is its own, the others of its batch are decided and written", async () => {
    const users = ["sound.1", "refused.by.trigger", "sound.2", "sound.3"];
    const secrets = new Map<string, Buffer>();
    for (const user of users) secrets.set(user, await userWithPin(user));
    v.clock.advance(60);
    // A database that refuses one user's audit entry (a full disk, a constraint): the write statement fails
    // and aborts the whole transaction it ran in.
    await sql`CREATE FUNCTION refuse_one_user() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.user_name = 'refused.by.trigger' THEN RAISE EXCEPTION 'refused for the test'; END IF; RETURN NEW; END $$`.execute(v.ctx.database.db);
    await sql`CREATE TRIGGER refuse_one_user BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_one_user()`.execute(v.ctx.database.db);
    try {
      const settled = await Promise.allSettled(users.map((user) => validatePasscode(v.ctx, actor, user, "583920" + code(secrets.get(user)!))));
      expect(settled.map((outcome) => (outcome.status === "fulfilled" ? outcome.value.result : String(outcome.reason.message)))).toEqual([
        "accept",
        "refused for the test",
        "accept",
        "accept",
      ]);
      const lastSteps = await v.ctx.database.db.selectFrom("tokens").select(["user_name", "last_step"]).where("user_name", "in", users).orderBy("user_name").execute();
      const step = referenceStep(v.clock.millis);
      expect(Object.fromEntries(lastSteps.map((token) => [token.user_name, token.last_step]))).toEqual({
        "refused.by.trigger": step - 1,
        "sound.1": step,
        "sound.2": step,
        "sound.3": step,
      });
    } finally {
      await sql`DROP TRIGGER refuse_one_user ON audit_log`.execute(v.ctx.database.db);
      await sql`DROP FUNCTION refuse_one_user()`.execute(v.ctx.database.db);
    }
    // The refused attempt consumed nothing: its code is still good.
    expect((await validatePasscode(v.ctx, actor, "refused.by.trigger", "583920" + code(secrets.get("refused.by.trigger")!))).result).toBe("accept");
  });

  it("a commit whose answer is lost: its attempts fail and are not decided again (a failure counts once)", async () => {
    const users = ["lost.1", "lost.2", "lost.3"];
    for (const user of users) await userWithPin(user);
    v.clock.advance(60);
    counter.loseNextCommitAnswer();
    const settled = await Promise.allSettled(users.map((user) => validatePasscode(v.ctx, actor, user, "583920000000")));
    expect(settled.map((outcome) => (outcome.status === "rejected" ? outcome.reason.constructor.name : outcome.value.result))).toEqual(Array(3).fill("CommitOutcomeUnknown"));
    for (const user of users) expect(await failuresOf(user)).toBe(1);
    const audited = await v.ctx.database.db.selectFrom("audit_log").select("user_name").where("user_name", "in", users).where("result", "=", "reject").execute();
    expect(audited).toHaveLength(3);
  });

  it("a user whose row another transaction holds: the batch gives up at the lock timeout, the others are decided alone", async () => {
    const users = ["held.1", "free.1", "free.2"];
    const secrets = new Map<string, Buffer>();
    for (const user of users) secrets.set(user, await userWithPin(user));
    v.clock.advance(60);
    // An administrator's psql session left open in the middle of a transaction on one user.
    const holder = new pg.Client({ connectionString: counter.url });
    await holder.connect();
    try {
      await holder.query("BEGIN");
      await holder.query("SELECT name FROM users WHERE name = 'held.1' FOR UPDATE");
      const settled = await Promise.allSettled(users.map((user) => validatePasscode(v.ctx, actor, user, "583920" + code(secrets.get(user)!))));
      expect(settled.map((outcome) => (outcome.status === "fulfilled" ? outcome.value.result : outcome.reason.code))).toEqual(["55P03", "accept", "accept"]);
    } finally {
      await holder.query("ROLLBACK");
      await holder.end();
    }
    expect((await validatePasscode(v.ctx, actor, "held.1", "583920" + code(secrets.get("held.1")!))).result).toBe("accept");
  }, 30_000);
});
