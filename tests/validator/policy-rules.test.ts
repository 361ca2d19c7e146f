import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { answerChallenge } from "../../validator/policy/answer-challenge.js";
import { gate } from "../../validator/policy/lockout.js";
import { defaultPolicy } from "../../validator/policy/policy.js";
import type { ChallengeState, TokenState, UserState } from "../../validator/policy/state.js";
import { verifyPasscode } from "../../validator/policy/verify-passcode.js";
import { loadProfile } from "../../validator/profile.js";
import { masterKeyFrom } from "../../validator/secrets/master-key.js";
import { verifierChecks } from "../../validator/secrets/verifiers.js";
import { referenceCode, referenceStep } from "../support/reference-totp.js";

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
});
