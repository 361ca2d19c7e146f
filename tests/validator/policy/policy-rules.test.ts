import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { answerChallenge } from "../../../validator/policy/answer-challenge.js";
import { gate, standing } from "../../../validator/policy/lockout.js";
import { mayOpenAccount } from "../../../validator/policy/staff-accounts.js";
import { defaultPolicy } from "../../../validator/policy/policy.js";
import type { ChallengeState, TokenState, UserState } from "../../../validator/policy/state.js";
import { verifyPasscode } from "../../../validator/policy/verify-passcode.js";
import { loadProfile } from "../../../common/profile.js";
import { masterKeyFrom } from "../../../validator/secrets/master-key.js";
import { verifierChecks } from "../../../validator/secrets/verifiers.js";
import { referenceCode, referenceStep } from "../../support/reference-totp.js";

const policy = defaultPolicy(loadProfile(), "Europe/Paris");
const checks = verifierChecks(masterKeyFrom(randomBytes(32)));
const now = Date.UTC(2026, 10, 26, 8, 0, 30);
const step = referenceStep(now);

function token(overrides: Partial<TokenState> = {}): TokenState {
  return { serial: "JT00000001", secret: randomBytes(32), parameters: policy.token, offset: 0, lastStep: null, ...overrides };
}

function user(overrides: Partial<UserState> = {}): UserState {
  return {
    user: "jdupont",
    known: true,
    pinVerifier: checks.pinVerifier("jdupont", "583920"),
    lockout: { failures: 0, lastFailureAt: null },
    epoch: 1,
    tokens: [token()],
    emergency: null,
    ...overrides,
  };
}

const attempt = (passcode: string) => ({ passcode, newChallengeId: "challenge-1" });

/** A next-code challenge opened at `openedAt` by the code of `opener`, at the user's current epoch (1). */
function nextCodeChallenge(opener: number, openedAt = now): ChallengeState {
  return { id: "c", user: "jdupont", kind: "next-code", serial: "JT00000001", step: opener, openedAt, expiresAt: openedAt + 180_000, epoch: 1, answered: false };
}

describe("verification rules as pure functions", () => {
  it("accepts PIN + code, records the step and offset, and changes nothing else", () => {
    const state = user();
    const outcome = verifyPasscode(state, attempt("583920" + referenceCode(state.tokens[0]!.secret, step + 1)), now, policy, checks);
    expect(outcome).toEqual({
      decision: { result: "accept", via: "token", serial: "JT00000001" },
      change: { acceptStep: { serial: "JT00000001", step: step + 1, offset: 1 }, revokeEmergency: false },
    });
  });

  it("never matches a decoy token, even with its own code", () => {
    const decoy = token({ decoy: true });
    const outcome = verifyPasscode(user({ tokens: [decoy] }), attempt("583920" + referenceCode(decoy.secret, step)), now, policy, checks);
    expect(outcome.decision).toEqual({ result: "reject", reason: "bad-passcode" });
  });

  it("rejects an unknown user even with the decoy's own PIN and code, without changing state", () => {
    const decoy = token({ decoy: true });
    const outcome = verifyPasscode(user({ known: false, tokens: [decoy] }), attempt("583920" + referenceCode(decoy.secret, step)), now, policy, checks);
    expect(outcome).toEqual({ decision: { result: "reject", reason: "unknown-user" }, change: {} });
  });

  it("refuses without evaluating while locked or throttled, and changes nothing", () => {
    const state = user({ lockout: { failures: 10, lastFailureAt: now - 3_600_000 } });
    const passcode = "583920" + referenceCode(state.tokens[0]!.secret, step);
    expect(verifyPasscode(state, attempt(passcode), now, policy, checks)).toEqual({ decision: { result: "reject", reason: "locked" }, change: {} });
    const throttled = user({ tokens: state.tokens, lockout: { failures: 4, lastFailureAt: now - 9_000 } });
    expect(gate(throttled.lockout, now, policy)).toEqual({ state: "throttled", until: now + 1_000 });
    expect(verifyPasscode(throttled, attempt(passcode), now, policy, checks).change).toEqual({});
  });

  it("opens a next-code challenge out of the ±1 window without moving the offset", () => {
    const state = user();
    const outcome = verifyPasscode(state, attempt("583920" + referenceCode(state.tokens[0]!.secret, step - 6)), now, policy, checks);
    expect(outcome.decision).toMatchObject({ result: "challenge", kind: "next-code" });
    expect(outcome.change).toEqual({ createChallenge: expect.objectContaining({ kind: "next-code", serial: "JT00000001", step: step - 6 }) });
  });

  it("answers a next-code challenge only with the code of the following step", () => {
    const state = user();
    const challenge = nextCodeChallenge(step + 5);
    const answer = (code: string) => answerChallenge(state, { challenge, response: code, newChallengeId: "n" }, now, policy, checks);
    expect(answer(referenceCode(state.tokens[0]!.secret, step + 5)).decision).toMatchObject({ result: "reject" });
    expect(answer(referenceCode(state.tokens[0]!.secret, step + 7)).decision).toMatchObject({ result: "reject" });
    const accepted = answer(referenceCode(state.tokens[0]!.secret, step + 6));
    expect(accepted.decision).toMatchObject({ result: "accept" });
    expect(accepted.change.acceptStep).toEqual({ serial: "JT00000001", step: step + 6, offset: 6 });
  });

  it("accepts an emergency password only before it expires, and only with the PIN", () => {
    const emergency = { verifier: checks.emergencyVerifier("jdupont", "abcdefghjk"), expiresAt: now + 1000 };
    const state = user({ emergency });
    expect(verifyPasscode(state, attempt("583920abcdefghjk"), now, policy, checks).decision).toMatchObject({ result: "accept", via: "emergency" });
    expect(verifyPasscode(state, attempt("583921abcdefghjk"), now, policy, checks).decision).toMatchObject({ result: "reject" });
    expect(verifyPasscode(state, attempt("583920abcdefghjk"), now + 1001, policy, checks).decision).toMatchObject({ result: "reject" });
  });
  it("finding 8: the next code must be the one the token shows now under the offset the first code implied", () => {
    const state = user();
    const secret = state.tokens[0]!.secret;
    const opened = now - 30_000; // the start of the current step
    const answer = (challenge: ChallengeState, at: number) =>
      answerChallenge(state, { challenge, response: referenceCode(secret, challenge.step! + 1), newChallengeId: "n" }, at, policy, checks).decision;
    // Shown at the next step, or at the boundary just before or after it: accepted.
    for (const later of [0, 60_000, 119_000]) expect(answer(nextCodeChallenge(step - 5, opened), opened + later)).toMatchObject({ result: "accept" });
    // Typed three steps after the first (still inside the challenge's 180 s): the token no longer shows it.
    expect(answer(nextCodeChallenge(step - 5, opened), opened + 180_000)).toEqual({ result: "reject", reason: "wrong-next-code" });
  });

  it("finding 8: a challenge moves the offset at most the challenge window away from the learned offset", () => {
    const secret = randomBytes(32);
    const answer = (learned: number, opener: number) =>
      answerChallenge(
        user({ tokens: [token({ secret, offset: learned })] }),
        { challenge: nextCodeChallenge(opener), response: referenceCode(secret, opener + 1), newChallengeId: "n" },
        now,
        policy,
        checks,
      );
    expect(answer(0, step + 9).change.acceptStep).toMatchObject({ offset: 10 });
    expect(answer(0, step + 10).decision).toEqual({ result: "reject", reason: "wrong-next-code" });
    // Bounded from the offset learned now, not the one when the challenge was opened.
    expect(answer(-3, step + 9).decision).toEqual({ result: "reject", reason: "wrong-next-code" });
  });

  it("finding 3: a challenge of an older epoch is void, and an answered one is refused; neither counts a failure", () => {
    const state = user({ pinVerifier: null });
    const challenge = { ...nextCodeChallenge(step), kind: "new-pin" as const, serial: null, step: null };
    const answer = (overrides: Partial<ChallengeState>) =>
      answerChallenge(state, { challenge: { ...challenge, ...overrides }, response: "739164", newChallengeId: "n" }, now, policy, checks);
    expect(answer({}).decision).toMatchObject({ result: "accept" });
    expect(answer({ epoch: 0 })).toEqual({ decision: { result: "reject", reason: "challenge-void" }, change: { consumeChallenge: "c" } });
    expect(answer({ answered: true })).toEqual({ decision: { result: "reject", reason: "challenge-answered" }, change: {} });
    // A new challenge takes the next epoch, which voids every older one.
    const code = referenceCode(state.tokens[0]!.secret, step);
    expect(verifyPasscode(state, attempt(code), now, policy, checks).change.createChallenge).toMatchObject({ kind: "new-pin", epoch: 2 });
  });

  it("finding 1: the emergency password never stands in for a missing PIN", () => {
    const emergency = { verifier: checks.emergencyVerifier("jdupont", "abcdefghjk"), expiresAt: now + 1000 };
    const state = user({ pinVerifier: null, emergency, lockout: { failures: 2, lastFailureAt: now - 600_000 } });
    expect(verifyPasscode(state, attempt("abcdefghjk"), now, policy, checks)).toEqual({
      decision: { result: "reject", reason: "bad-passcode" },
      change: { failures: "increment" },
    });
  });

  it("finding 10: only a success that proved the PIN clears the failure count", () => {
    const lockout = { failures: 4, lastFailureAt: now - 600_000 };
    const state = user({ lockout });
    const code = referenceCode(state.tokens[0]!.secret, step);
    expect(verifyPasscode(state, attempt("583920" + code), now, policy, checks).change.failures).toBe("reset");
    const firstUse = user({ lockout, pinVerifier: null, tokens: state.tokens });
    expect(verifyPasscode(firstUse, attempt(code), now, policy, checks).change.failures).toBeUndefined();
    const newPin = { ...nextCodeChallenge(step), kind: "new-pin" as const, serial: null, step: null };
    expect(answerChallenge(firstUse, { challenge: newPin, response: "739164", newChallengeId: "n" }, now, policy, checks).change.failures).toBeUndefined();
  });

  it("finding 11: locks are permanent by default; with automatic unlock they lift that long after the last failure", () => {
    const locked = { failures: 10, lastFailureAt: now - 29 * 60_000 };
    expect(gate(locked, now + 86_400_000 * 365, policy)).toEqual({ state: "locked" });
    const autoUnlock = { ...policy, autoUnlockMinutes: 30 };
    expect(gate(locked, now, autoUnlock)).toEqual({ state: "locked" });
    expect(gate(locked, now + 60_000, autoUnlock)).toEqual({ state: "open" });
    expect(standing(locked, now + 60_000, autoUnlock)).toEqual({ failures: 0, lastFailureAt: null });
    // The first failure after it starts the count again; a success clears the stored count.
    const state = user({ lockout: locked });
    expect(verifyPasscode(state, attempt("583920000000"), now + 60_000, autoUnlock, checks).change).toEqual({ failures: "restart" });
    expect(verifyPasscode(state, attempt("583920000000"), now + 60_000, policy, checks).decision).toEqual({ result: "reject", reason: "locked" });
    const code = referenceCode(state.tokens[0]!.secret, referenceStep(now + 60_000));
    expect(verifyPasscode(state, attempt("583920" + code), now + 60_000, autoUnlock, checks).change.failures).toBe("reset");
  });
});

describe("staff accounts (mayOpenAccount)", () => {
  it("opens a staff account only to a role above its own; any role that has the operation on other users", () => {
    const table = ["auditor", "support", "helpdesk", "operator"].map((actor) =>
      [null, "auditor", "support", "helpdesk"].map((staff) => (mayOpenAccount(actor, staff) ? "yes" : "no")).join(" "),
    );
    expect(table).toEqual([
      // not staff, auditor, support, helpdesk
      "yes no no no", // auditor
      "yes yes no no", // support
      "yes yes yes no", // helpdesk
      "yes yes yes yes", // the operator's local commands
    ]);
    // A role the rule does not know (a portal key) opens no staff account; an unknown staff role is opened by nobody.
    expect(mayOpenAccount("portal", "auditor")).toBe(false);
    expect(mayOpenAccount("operator", "superuser")).toBe(false);
  });
});
