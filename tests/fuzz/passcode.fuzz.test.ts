import fc from "fast-check";
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { answerChallenge } from "../../validator/policy/answer-challenge.js";
import { defaultPolicy } from "../../validator/policy/policy.js";
import type { UserState } from "../../validator/policy/state.js";
import { verifyPasscode } from "../../validator/policy/verify-passcode.js";
import { loadProfile } from "../../common/profile.js";
import { masterKeyFrom } from "../../validator/secrets/master-key.js";
import { verifierChecks } from "../../validator/secrets/verifiers.js";
import { fuzzRuns } from "./fuzz-runs.js";

const policy = defaultPolicy(loadProfile(), "Europe/Paris");
const checks = verifierChecks(masterKeyFrom(randomBytes(32)));
const now = Date.UTC(2026, 10, 26, 8, 0, 30);

const state = (pinSet: boolean): UserState => ({
  user: "fuzz",
  known: true,
  pinVerifier: pinSet ? checks.pinVerifier("fuzz", "583920") : null,
  lockout: { failures: 0, lastFailureAt: null },
  epoch: 1,
  tokens: [{ serial: "JT00000001", secret: randomBytes(32), parameters: policy.token, offset: 0, lastStep: null }],
  emergency: { verifier: checks.emergencyVerifier("fuzz", "abcdefghjk"), expiresAt: now + 3_600_000 },
});

/** Digits-heavy strings look like passcodes; full unicode strings look like anything else. */
const passcodes = fc.oneof(
  fc.string({ unit: fc.constantFrom(..."0123456789"), maxLength: 24 }),
  fc.string({ unit: "grapheme", maxLength: 64 }),
  fc.string({ unit: "binary", maxLength: 64 }),
);

describe("fuzz: passcode parsing and the rules", () => {
  it("any passcode is decided without throwing, and a random one is never accepted", () => {
    const withPin = state(true);
    const firstUse = state(false);
    fc.assert(
      fc.property(passcodes, fc.boolean(), (passcode, pinSet) => {
        const outcome = verifyPasscode(pinSet ? withPin : firstUse, { passcode, newChallengeId: "c" }, now, policy, checks);
        expect(outcome.decision.result).toBe("reject");
        expect(outcome.change).toEqual({ failures: "increment" });
      }),
      { numRuns: fuzzRuns },
    );
  });

  it("any challenge response is decided without throwing; a new-pin response is accepted only if strong", () => {
    const challenge = { id: "c", user: "fuzz", kind: "new-pin" as const, serial: null, step: null, openedAt: now, expiresAt: now + 60_000, epoch: 1, answered: false };
    fc.assert(
      fc.property(passcodes, (response) => {
        const outcome = answerChallenge(state(false), { challenge, response, newChallengeId: "n" }, now, policy, checks);
        if (outcome.decision.result === "accept") expect(response).toMatch(/^[0-9]{6,12}$/);
        else expect(outcome.decision).toMatchObject({ result: "challenge", kind: "new-pin", weakPin: expect.any(String) });
      }),
      { numRuns: fuzzRuns },
    );
  });
});
