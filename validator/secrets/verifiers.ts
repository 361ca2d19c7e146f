import { createHmac } from "node:crypto";
import type { VerifierChecks } from "../policy/state.js";
import { constantTimeEqual } from "./constant-time.js";
import type { MasterKey } from "./master-key.js";

/**
 * PIN and emergency-password verifiers: HMAC-SHA-256 under a key derived from the master key. A PIN has
 * too little entropy for a slow hash to help; the server-side key is what stops offline guessing from a
 * database dump.
 */
export function verifierChecks(master: MasterKey): VerifierChecks {
  const key = master.derive("secret-verifiers");
  const verifier = (purpose: string, user: string, value: string) =>
    createHmac("sha256", key).update(`${purpose}\0${user}\0${value}`).digest("base64");
  return {
    pinVerifier: (user, pin) => verifier("pin", user, pin),
    emergencyVerifier: (user, password) => verifier("emergency", user, password),
    pinMatches: (user, candidate, stored) => constantTimeEqual(verifier("pin", user, candidate), stored),
    emergencyMatches: (user, candidate, stored) => constantTimeEqual(verifier("emergency", user, candidate), stored),
  };
}

