import { createHmac } from "node:crypto";
import type { VerifierChecks } from "../policy/state.js";
import { constantTimeEqual } from "./constant-time.js";
import type { MasterKey } from "./master-key.js";

/**
 * A verifier keyed to an earlier spelling of its user's identifier: the migration that normalised
 * identifiers (see common/identifiers.ts) cannot recompute a verifier without the PIN, so it records the
 * spelling the verifier was made with; the next PIN the user sets is keyed to the normalised identifier.
 */
const EARLIER_SPELLING = "keyed-to:";

export function keyedToEarlierSpelling(earlierUser: string, verifier: string): string {
  return `${EARLIER_SPELLING}${earlierUser}:${verifier}`;
}

/** The identifier a stored verifier is keyed to, and the verifier itself (base64, so never a ":"). */
function keyedVerifier(user: string, stored: string): { user: string; verifier: string } {
  if (!stored.startsWith(EARLIER_SPELLING)) return { user, verifier: stored };
  const separator = stored.lastIndexOf(":");
  return { user: stored.slice(EARLIER_SPELLING.length, separator), verifier: stored.slice(separator + 1) };
}

/**
 * PIN and emergency-password verifiers: HMAC-SHA-256 under a key derived from the master key. A PIN has
 * too little entropy for a slow hash to help; the server-side key is what stops offline guessing from a
 * database dump.
 */
export function verifierChecks(master: MasterKey): VerifierChecks {
  const key = master.derive("secret-verifiers");
  const verifier = (purpose: string, user: string, value: string) =>
    createHmac("sha256", key).update(`${purpose}\0${user}\0${value}`).digest("base64");
  const matches = (purpose: string, user: string, candidate: string, stored: string) => {
    const keyed = keyedVerifier(user, stored);
    return constantTimeEqual(verifier(purpose, keyed.user, candidate), keyed.verifier);
  };
  return {
    pinVerifier: (user, pin) => verifier("pin", user, pin),
    emergencyVerifier: (user, password) => verifier("emergency", user, password),
    pinMatches: (user, candidate, stored) => matches("pin", user, candidate, stored),
    emergencyMatches: (user, candidate, stored) => matches("emergency", user, candidate, stored),
  };
}
