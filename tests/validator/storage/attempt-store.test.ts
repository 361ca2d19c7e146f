import { randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConcurrentChange } from "../../../validator/storage/attempt-store.js";
import { referenceCode, referenceStep } from "../../support/reference-totp.js";
import { dialects, validatorForSuite, type RunningValidator } from "../../support/test-validator.js";

/**
 * The attempt store's replay guard (attempt-store.ts): a write whose step is no longer above the token's
 * last accepted step throws ConcurrentChange and writes nothing of the attempt — no counter, no
 * challenge, no emergency-password change, no audit entry (operations/validation.ts audits the race).
 */
describe.each(dialects)("attempt store on %s", (dialect) => {
  let v: RunningValidator;
  validatorForSuite(dialect, (started) => (v = started));

  const code = (secret: Buffer) => referenceCode(secret, referenceStep(v.clock.millis));
  const validate = async (body: Record<string, string>) => (await v.request("POST", "/v1/validate", body, "portal")).json;

  /** Everything an attempt of `user` may write. */
  async function snapshot(user: string) {
    const { db } = v.ctx.database;
    return {
      user: await db.selectFrom("users").select(["failures", "last_failure_at", "last_attempt_at", "pin_verifier", "epoch"]).where("name", "=", user).executeTakeFirst(),
      tokens: await db.selectFrom("tokens").select(["serial", "last_step", "offset_steps", "last_used_at"]).where("user_name", "=", user).execute(),
      emergency: await db.selectFrom("emergency_passwords").select(["verifier", "expires_at"]).where("user_name", "=", user).executeTakeFirst(),
      challenges: await db.selectFrom("challenges").select(["id", "answered_at", "expires_at"]).where("user_name", "=", user).orderBy("id").execute(),
      audit: await db.selectFrom("audit_log").select("id").orderBy("id", "desc").limit(1).execute(),
    };
  }

  it("a step that is no longer above the last accepted one: ConcurrentChange, nothing written", async () => {
    const secret = randomBytes(32);
    expect((await v.request("POST", "/v1/tokens", { serial: "JT00000001", secretHex: secret.toString("hex") })).status).toBe(201);
    expect((await v.request("POST", "/v1/tokens/JT00000001/assign", { user: "guarded" })).status).toBe(200);
    const opened = await validate({ user: "guarded", passcode: code(secret) });
    expect((await validate({ user: "guarded", challenge: opened.challenge.id, response: "583920" })).result).toBe("accept");
    expect((await v.request("POST", "/v1/users/guarded/emergency", {}, "support")).status).toBe(200);
    v.clock.advance(60);
    expect((await validate({ user: "guarded", passcode: "583920000000" })).result).toBe("reject");
    const before = await snapshot("guarded");
    const lastStep = before.tokens[0]!.last_step!;
    expect(before.user!.failures).toBe(1);
    expect(before.emergency).toBeDefined();

    const now = v.clock.now() + 1000;
    const attempt = v.ctx.database.attempts.run({ user: "guarded", challengeId: opened.challenge.id, actor: { id: "test", role: "portal", source: "test" }, now }, (loaded) => {
      expect(loaded.state?.tokens[0]?.lastStep).toBe(lastStep);
      return {
        // A decision made on a state that has moved on: every other part of the change would be written.
        change: {
          acceptStep: { serial: "JT00000001", step: lastStep, offset: 3 },
          failures: "increment",
          revokeEmergency: true,
          rekeyPinVerifier: "rekeyed",
          consumeChallenge: opened.challenge.id,
          createChallenge: { id: randomUUID(), kind: "next-code", serial: "JT00000001", step: lastStep, expiresAt: now + 60_000, epoch: before.user!.epoch + 1 },
        },
        audit: { event: "validate", result: "accept", user: "guarded", serial: "JT00000001" },
        result: "decided",
      };
    });
    await expect(attempt).rejects.toBeInstanceOf(ConcurrentChange);
    expect(await snapshot("guarded")).toEqual(before);
  });

  it("rules that throw: nothing written, and the user's next attempt is served (the lock was let go)", async () => {
    const before = await snapshot("guarded");
    const request = { user: "guarded", challengeId: null, actor: { id: "test", role: "portal", source: "test" }, now: v.clock.now() };
    await expect(v.ctx.database.attempts.run(request, () => { throw new Error("rules failed"); })).rejects.toThrow("rules failed");
    expect(await snapshot("guarded")).toEqual(before);
    if (dialect === "postgres") {
      // From another connection: a connection returned to the pool inside the attempt's transaction
      // would still hold the row (and be handed to the next attempt, which would then seem to work).
      const locked = v.ctx.database.transaction((trx) => trx.selectFrom("users").select("name").where("name", "=", "guarded").forUpdate().noWait().execute());
      await expect(locked).resolves.toHaveLength(1);
    }
    expect((await validate({ user: "guarded", passcode: "583920000000" })).result).toBe("reject");
    expect((await snapshot("guarded")).user!.failures).toBe(before.user!.failures + 1);
  });
});
