import { gate } from "./lockout.js";
import { countFailure, reject, resetFailures, type Outcome, type StateChange } from "./outcome.js";
import { weakPinReason } from "./pin-strength.js";
import type { VerificationPolicy } from "./policy.js";
import type { ChallengeState, TokenState, UserState, VerifierChecks } from "./state.js";
import { challengeWindowAt } from "./challenge-window.js";
import { codeAt, stepAt } from "./totp.js";
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
 * The policy for answering a challenge. A challenge answers only while the user's state is the one it was
 * opened on (same epoch) and only once: a retry of an answered challenge is refused without counting a
 * failure, and so is a challenge voided by a later change. A next-code challenge needs the code the token
 * shows now, given the offset implied by the code that opened it; a new-pin challenge needs a PIN that
 * passes the strength rules (a weak one is refused with its reason and the same challenge stays open).
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
  if (challenge === null) return reject("challenge-unknown", countFailure(state.lockout, now, policy));
  if (challenge.answered) return reject("challenge-answered");
  if (now > challenge.expiresAt) return reject("challenge-expired", { consumeChallenge: challenge.id });
  if (challenge.epoch !== state.epoch) return reject("challenge-void", { consumeChallenge: challenge.id });

  if (challenge.kind === "new-pin") {
    const weakPin = weakPinReason(response, policy.pin);
    if (weakPin !== null) {
      return {
        decision: { result: "challenge", kind: "new-pin", id: challenge.id, expiresAt: challenge.expiresAt, weakPin },
        change: {},
      };
    }
    // Choosing a PIN proves only the token: the failure count stays until the PIN is first used.
    return {
      decision: { result: "accept", via: "token", serial: challenge.serial },
      change: { consumeChallenge: challenge.id, setPinVerifier: checks.pinVerifier(state.user, response) },
    };
  }

  const token = state.tokens.find((candidate) => candidate.serial === challenge.serial);
  const step = (challenge.step ?? 0) + 1;
  const expected = token ? codeAt(token.secret, step, token.parameters) : "";
  if (!token || !nextCodeFits(token, challenge, step, now, policy) || !constantTimeEqual(expected, response)) {
    return reject("wrong-next-code", { consumeChallenge: challenge.id, ...countFailure(state.lockout, now, policy) });
  }
  const firstUse = state.pinVerifier === null;
  const change: StateChange = {
    consumeChallenge: challenge.id,
    acceptStep: { serial: token.serial, step, offset: offsetFor(token, step, now) },
    revokeEmergency: state.emergency !== null,
    // PIN + code opened the challenge (the same epoch proves the PIN is unchanged since).
    ...(firstUse ? {} : resetFailures(state.lockout)),
  };
  if (firstUse) return newPinChallenge(state, answer, now, policy, change, token.serial);
  return { decision: { result: "accept", via: "token", serial: token.serial }, change };
}

/**
 * The second code must be the one the token shows now under the offset the first code implied (within
 * the direct window, for step boundaries that fall between the two clocks), so it must follow the first at
 * once (two old consecutive codes typed one after the other look like a slow token: only the challenge
 * window bounds how old they may be); it must be fresh; and the offset it teaches may be at most
 * the token's challenge window now (grown with the time since it was last accepted, the window that could
 * open the challenge) away from the offset learned so far.
 */
function nextCodeFits(token: TokenState, challenge: ChallengeState, step: number, now: number, policy: VerificationPolicy): boolean {
  const impliedOffset = (challenge.step ?? 0) - stepAt(challenge.openedAt, token.parameters);
  const showsNow = stepAt(now, token.parameters) + impliedOffset;
  const fresh = token.lastStep === null || step > token.lastStep;
  const bounded = Math.abs(offsetFor(token, step, now) - token.offset) <= challengeWindowAt(token, now, policy);
  return fresh && bounded && Math.abs(step - showsNow) <= policy.directWindow;
}
