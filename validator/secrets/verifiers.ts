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

/**
 * Every stored verifier starts with the id of the master key it is keyed with: `key:<12 hex>:`, so a
 * master-key rotation can tell which verifiers still need the previous key (they cannot be re-keyed
 * without the PIN; operations/verifier-rekey.ts re-keys them at the user's next accepted passcode).
 * Migration 0008 tagged the verifiers written before; an untagged one is keyed with the current key.
 */
const KEY_TAG = /^key:([0-9a-f]{12}):/;

/** The id of the master key a stored verifier is keyed with, or null for an untagged (current-key) one. */
export function verifierKeyId(stored: string): string | null {
  return KEY_TAG.exec(stored)?.[1] ?? null;
}

/** The SQL LIKE pattern of verifiers keyed with `keyId` (hex: nothing to escape). */
export function verifierKeyPattern(keyId: string): string {
  return `key:${keyId}:%`;
}

/** The identifier a stored verifier is keyed to, and the verifier itself (base64, so never a ":"). */
function keyedVerifier(user: string, stored: string): { keyId: string | null; user: string; verifier: string } {
  const keyId = verifierKeyId(stored);
  const untagged = keyId === null ? stored : stored.slice(`key:${keyId}:`.length);
  if (!untagged.startsWith(EARLIER_SPELLING)) return { keyId, user, verifier: untagged };
  const spelled = untagged.slice(EARLIER_SPELLING.length);
  // (a verifier tagged before it was marked with its spelling keeps its tag inside)
  const inner = /^(.*):key:([0-9a-f]{12}):([^:]*)$/.exec(spelled);
  if (inner) return { keyId: inner[2]!, user: inner[1]!, verifier: inner[3]! };
  const separator = spelled.lastIndexOf(":");
  return { keyId, user: spelled.slice(0, separator), verifier: spelled.slice(separator + 1) };
}

/**
 * A verifier keyed with a master key this instance has not loaded: an internal error, never a decision.
 * Another instance has moved to a newer key, so this one is outdated until restarted with the keys of
 * the rotation; from the first such verifier on it decides nothing for anyone (see `outdatedBy`).
 */
export class VerifierKeyNotLoaded extends Error {
  constructor(readonly keyId: string) {
    super(`a verifier is keyed with master key ${keyId}, which this instance has not loaded: restart it with the keys of the rotation (JETON_MASTER_KEY_FILE, JETON_PREVIOUS_MASTER_KEY_FILE)`);
  }
}

/**
 * PIN and emergency-password verifiers: HMAC-SHA-256 under a key derived from the master key. A PIN has
 * too little entropy for a slow hash to help; the server-side key is what stops offline guessing from a
 * database dump. New verifiers are keyed with `master`; during a rotation those keyed with a `previous`
 * key still match.
 */
export interface KeyedVerifiers extends VerifierChecks {
  /**
   * The unloaded master key a verifier was found under, or null. Once set, every check throws: an
   * error for that user alone would tell a prober, during a rolling restart, which identifiers exist
   * (unknown users are checked against a decoy under the loaded key), and a health check can take the
   * instance out of rotation.
   */
  outdatedBy(): string | null;
}

export function verifierChecks(master: MasterKey, previous: MasterKey[] = []): KeyedVerifiers {
  const keys = new Map([master, ...previous].map((key) => [key.id, key.derive("secret-verifiers")]));
  const currentKey = keys.get(master.id)!;
  let missingKeyId: string | null = null;
  const hmac = (key: Buffer, purpose: string, user: string, value: string) =>
    createHmac("sha256", key).update(`${purpose}\0${user}\0${value}`).digest("base64");
  const verifier = (purpose: string, user: string, value: string) => `key:${master.id}:${hmac(currentKey, purpose, user, value)}`;
  const matches = (purpose: string, user: string, candidate: string, stored: string) => {
    const keyed = keyedVerifier(user, stored);
    const key = keyed.keyId === null ? currentKey : keys.get(keyed.keyId);
    // Start-up refuses verifiers under a key not loaded (validator.ts), but another instance may write one
    // during a rotation (an instance not yet restarted with both keys): this one cannot decide, and a
    // reject would count the user's good passcode as a failure.
    if (key === undefined) missingKeyId ??= keyed.keyId!;
    if (missingKeyId !== null) throw new VerifierKeyNotLoaded(missingKeyId);
    return constantTimeEqual(hmac(key!, purpose, keyed.user, candidate), keyed.verifier);
  };
  return {
    outdatedBy: () => missingKeyId,
    pinVerifier: (user, pin) => verifier("pin", user, pin),
    emergencyVerifier: (user, password) => verifier("emergency", user, password),
    pinMatches: (user, candidate, stored) => matches("pin", user, candidate, stored),
    emergencyMatches: (user, candidate, stored) => matches("emergency", user, candidate, stored),
  };
}
