import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { respondToChallenge, validatePasscode } from "../../../validator/operations/validation.js";
import type { Decision } from "../../../validator/policy/outcome.js";
import type { Actor } from "../../../validator/storage/audit-log.js";
import { postgresAvailable } from "../../support/postgres.js";
import { referenceCode, referenceStep } from "../../support/reference-totp.js";
import type { RoundTripCounter } from "../../support/round-trip-counter.js";
import { countedValidatorForSuite, type RunningValidator } from "../../support/test-validator.js";

/**
 * Issue 13: on PostgreSQL a validation costs at most two round trips (one that locks and loads, one
 * that writes and commits), whatever it decides. Counted by a proxy between the validator and the
 * server (support/round-trip-counter.ts), around the operation alone.
 */
describe.runIf(postgresAvailable)("PostgreSQL round trips per validation", () => {
  let counter: RoundTripCounter;
  let v: RunningValidator;
  const actor: Actor = { id: "round-trips", role: "portal", source: "test" };
  countedValidatorForSuite((started, proxy) => ((v = started), (counter = proxy)));

  const code = (secret: Buffer) => referenceCode(secret, referenceStep(v.clock.millis));
  /** The decision, and the round trips it took. */
  async function counted(attempt: () => Promise<Decision>): Promise<{ decision: Decision; roundTrips: number }> {
    const before = counter.roundTrips;
    const decision = await attempt();
    return { decision, roundTrips: counter.roundTrips - before };
  }
  const validate = (user: string, passcode: string) => counted(() => validatePasscode(v.ctx, actor, user, passcode));
  const respond = (user: string, id: string, response: string) => counted(() => respondToChallenge(v.ctx, actor, user, id, response));

  it("at most two for a challenge, an accept and each kind of reject", async () => {
    const secret = randomBytes(32);
    expect((await v.request("POST", "/v1/tokens", { serial: "JT00000001", secretHex: secret.toString("hex") })).status).toBe(201);
    expect((await v.request("POST", "/v1/tokens/JT00000001/assign", { user: "counted" })).status).toBe(200);
    // The attempts' pooled connection is opened (its start-up is not an attempt's round trip).
    await validatePasscode(v.ctx, actor, "warm.up", "000000");

    const attempts: { name: string; decision: Decision; roundTrips: number }[] = [];
    const record = (name: string, measured: { decision: Decision; roundTrips: number }) => (attempts.push({ name, ...measured }), measured.decision);

    const opened = record("first code: new-pin challenge", await validate("counted", code(secret)));
    if (opened.result !== "challenge") throw new Error(`expected a challenge, got ${JSON.stringify(opened)}`);
    record("weak PIN: challenge again", await respond("counted", opened.id, "123456"));
    record("PIN chosen: accept", await respond("counted", opened.id, "583920"));
    record("challenge answered twice: reject", await respond("counted", opened.id, "583920"));
    v.clock.advance(60);
    record("PIN + code: accept", await validate("counted", "583920" + code(secret)));
    record("replayed code: reject", await validate("counted", "583920" + code(secret)));
    record("wrong code: reject", await validate("counted", "583920000000"));
    record("unknown user: reject", await validate("nobody", "583920000000"));

    expect(attempts.map(({ name, decision }) => [name, decision.result])).toEqual([
      ["first code: new-pin challenge", "challenge"],
      ["weak PIN: challenge again", "challenge"],
      ["PIN chosen: accept", "accept"],
      ["challenge answered twice: reject", "reject"],
      ["PIN + code: accept", "accept"],
      ["replayed code: reject", "reject"],
      ["wrong code: reject", "reject"],
      ["unknown user: reject", "reject"],
    ]);
    for (const { name, roundTrips } of attempts) {
      expect(roundTrips, name).toBeGreaterThan(0);
      expect(roundTrips, name).toBeLessThanOrEqual(2);
    }
  });
});
