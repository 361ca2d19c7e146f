import { gate } from "./lockout.js";
import { reject, resetFailures, type Outcome, type StateChange } from "./outcome.js";
import { weakPinReason } from "./pin-strength.js";
import type { VerificationPolicy } from "./policy.js";
import type { ChallengeState, UserState, VerifierChecks } from "./state.js";
import { codeAt } from "./totp.js";
import { constantTimeEqual } from "../secrets/constant-time.js";
import { offsetFor } from "./window.js";
import { newPinChallenge } from "./verify-passcode.js";

export interface ChallengeAnswer {
  /** The challenge as stored, or null when the id is unknown or belongs to another user. */
  challenge: ChallengeState | null;
  response: string;
  newChallengeId: string;
}

/**
 * The policy for answering a challenge: a next-code challenge needs exactly the code of the step after
 * the one that opened it; a new-pin challenge needs a PIN that passes the strength rules (a weak one is
 * refused with its reason and the same challenge stays open until it expires).
 */
export function answerChallenge(
  state: UserState,
  answer: ChallengeAnswer,
  now: number,
  policy: VerificationPolicy,
  checks: VerifierChecks,
): Outcome {
  const { challenge, response } = answer;
  const open = gate(state.lockout, now, policy);
  if (!state.known) return reject("unknown-user");
  if (open.state !== "open") return reject(open.state);
  if (challenge === null) return reject("challenge-unknown", { failures: "increment" });
  if (now > challenge.expiresAt) return reject("challenge-expired", { consumeChallenge: challenge.id });

  if (challenge.kind === "new-pin") {
    const weakPin = weakPinReason(response, policy.pin);
    if (weakPin !== null) {
      return {
        decision: { result: "challenge", kind: "new-pin", id: challenge.id, expiresAt: challenge.expiresAt, weakPin },
        change: {},
      };
    }
    return {
      decision: { result: "accept", via: "token", serial: challenge.serial },
      change: { consumeChallenge: challenge.id, setPinVerifier: checks.pinVerifier(state.user, response), ...resetFailures(state.lockout.failures) },
    };
  }

  const token = state.tokens.find((candidate) => candidate.serial === challenge.serial);
  const step = (challenge.step ?? 0) + 1;
  const expected = token ? codeAt(token.secret, step, token.parameters) : "";
  const fresh = token !== undefined && (token.lastStep === null || step > token.lastStep);
  if (!token || !fresh || !constantTimeEqual(expected, response)) {
    return reject("wrong-next-code", { consumeChallenge: challenge.id, failures: "increment" });
  }
  const change: StateChange = {
    consumeChallenge: challenge.id,
    acceptStep: { serial: token.serial, step, offset: offsetFor(token, step, now) },
    revokeEmergency: state.emergency !== null,
    ...resetFailures(state.lockout.failures),
  };
  if (state.pinVerifier === null) return newPinChallenge(answer, now, policy, change);
  return { decision: { result: "accept", via: "token", serial: token.serial }, change };
}
