import { gate } from "./lockout.js";
import { countFailure, reject, resetFailures, type Outcome, type StateChange } from "./outcome.js";
import type { VerificationPolicy } from "./policy.js";
import type { UserState, VerifierChecks } from "./state.js";
import { findCode, offsetFor, type WindowMatch } from "./window.js";

export interface PasscodeAttempt {
  passcode: string;
  /** A fresh id, used if the outcome opens a challenge. */
  newChallengeId: string;
  /**
   * False where an emergency password is no way in (the support console): it is then checked all the
   * same (same work) but never accepted, and a token accepted there still revokes it.
   */
  emergencyAccepted?: boolean;
}

/**
 * The verification policy for a passcode (PIN + code, PIN + emergency password, or the code alone on
 * first use, which only opens a new-pin challenge; an emergency password never replaces a missing PIN).
 * Pure: the caller loads `state`, applies `change` atomically and records the decision.
 * Every path computes the PIN verifier and the whole code window before any reject, so unknown users,
 * locked users, wrong PINs and wrong codes cost the same work.
 */
export function verifyPasscode(
  state: UserState,
  attempt: PasscodeAttempt,
  now: number,
  policy: VerificationPolicy,
  checks: VerifierChecks,
): Outcome {
  const { passcode } = attempt;
  const firstUse = state.pinVerifier === null;
  const open = gate(state.lockout, now, policy);
  // Only a passcode that can still be accepted may stop the code search early; every reject computes the
  // whole window, so timing tells nothing about a locked user's PIN or code.
  const mayAccept = state.known && open.state === "open";

  // PIN first, then the code: the code is the last `digits` characters of the token it comes from.
  const pinMatches = (pin: string) =>
    firstUse ? pin === "" : checks.pinMatches(state.user, pin, state.pinVerifier ?? "");
  const codeLengths = new Set(state.tokens.map((token) => token.parameters.digits));
  let pinOk = false;
  let match: WindowMatch | null = null;
  for (const digits of codeLengths.size > 0 ? codeLengths : [policy.token.digits]) {
    const pinPart = passcode.slice(0, Math.max(0, passcode.length - digits));
    const pinOkHere = pinMatches(pinPart);
    const tokens = state.tokens.filter((token) => token.parameters.digits === digits);
    const matchHere = findCode(tokens, passcode.slice(pinPart.length), now, policy, !(mayAccept && pinOkHere));
    if (pinOkHere && (match === null || (matchHere?.direct && !match.direct))) {
      pinOk = true;
      match = matchHere ?? match;
    }
  }
  // The emergency password stands in for the code, never for the PIN: a user without a PIN has no
  // emergency path at all (computed anyway, for the same work).
  const emergencyOk = emergencyMatches(state, passcode, now, policy, checks, pinMatches) && !firstUse && attempt.emergencyAccepted !== false;

  if (!state.known) return reject("unknown-user");
  if (open.state !== "open") return reject(open.state);

  // Only a success that proved the PIN clears failures; the first-use code alone does not.
  const provedPin = firstUse ? {} : resetFailures(state.lockout);
  if (pinOk && match?.direct) {
    const { token, step } = match;
    const change: StateChange = {
      ...provedPin,
      acceptStep: { serial: token.serial, step, offset: offsetFor(token, step, now) },
      revokeEmergency: state.emergency !== null,
    };
    if (firstUse) return newPinChallenge(state, attempt, now, policy, change, token.serial);
    return { decision: { result: "accept", via: "token", serial: token.serial }, change };
  }
  if (emergencyOk) {
    return { decision: { result: "accept", via: "emergency", serial: null }, change: provedPin };
  }
  if (pinOk && match) {
    // Out of the direct window: the offset moves only once the following code confirms it.
    const expiresAt = now + policy.nextCodeChallengeSeconds * 1000;
    const challenge = {
      id: attempt.newChallengeId,
      kind: "next-code" as const,
      serial: match.token.serial,
      step: match.step,
      expiresAt,
      epoch: state.epoch + 1,
    };
    return {
      decision: { result: "challenge", kind: "next-code", id: challenge.id, expiresAt },
      change: { createChallenge: challenge },
    };
  }
  return reject("bad-passcode", countFailure(state.lockout, now, policy));
}

function emergencyMatches(
  state: UserState,
  passcode: string,
  now: number,
  policy: VerificationPolicy,
  checks: VerifierChecks,
  pinMatches: (pin: string) => boolean,
): boolean {
  const length = policy.emergencyPasswordLength;
  const pinPart = passcode.slice(0, Math.max(0, passcode.length - length));
  const passwordPart = passcode.slice(pinPart.length);
  const emergency = state.emergency;
  // Same work with or without an emergency password on file.
  const passwordOk = checks.emergencyMatches(state.user, passwordPart, emergency?.verifier ?? "");
  return emergency !== null && now <= emergency.expiresAt && passwordOk && pinMatches(pinPart);
}

/**
 * The new-pin challenge of a first use, opened by a code of token `serial`: its accept names that token,
 * so the console opens a session only while that very token is still held and active.
 */
export function newPinChallenge(
  state: UserState,
  attempt: { newChallengeId: string },
  now: number,
  policy: VerificationPolicy,
  change: StateChange,
  serial: string,
): Outcome {
  const expiresAt = now + policy.newPinChallengeSeconds * 1000;
  return {
    decision: { result: "challenge", kind: "new-pin", id: attempt.newChallengeId, expiresAt },
    change: { ...change, createChallenge: { id: attempt.newChallengeId, kind: "new-pin", serial, step: null, expiresAt, epoch: state.epoch + 1 } },
  };
}
