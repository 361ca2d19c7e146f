import { autoUnlocked, type FailureRecord } from "./lockout.js";
import type { WeakPinReason } from "./pin-strength.js";
import type { VerificationPolicy } from "./policy.js";
import type { ChallengeKind } from "./state.js";

/** Why an attempt was rejected: for the audit log only, never for the caller. */
export type RejectReason =
  | "unknown-user"
  | "locked"
  | "throttled"
  | "bad-passcode"
  | "challenge-unknown"
  | "challenge-expired"
  | "challenge-answered"
  | "challenge-void"
  | "wrong-next-code";

export type Decision =
  | { result: "accept"; via: "token" | "emergency"; serial: string | null }
  | { result: "reject"; reason: RejectReason }
  | { result: "challenge"; kind: ChallengeKind; id: string; expiresAt: number; weakPin?: WeakPinReason };

/** What the storage edge must write, all in the transaction that read the state. */
export interface StateChange {
  /** `restart`: the first failure after an automatic unlock (the count starts again at 1). */
  failures?: "increment" | "reset" | "restart";
  /** Written only if the step is still above the token's last accepted step (replay guard). */
  acceptStep?: { serial: string; step: number; offset: number };
  revokeEmergency?: boolean;
  /** Opened at the user's next epoch, which the write sets: every older open challenge becomes void. */
  createChallenge?: { id: string; kind: ChallengeKind; serial: string | null; step: number | null; expiresAt: number; epoch: number };
  /** Marks the challenge answered: it can never be answered again, and a retry is not a failure. */
  consumeChallenge?: string;
  setPinVerifier?: string;
  /**
   * The same PIN or emergency password keyed with the current master key, replacing a verifier keyed
   * with the previous one after a rotation (set by operations/verifier-rekey.ts, outside the rules). Not
   * a new PIN: open challenges stay valid.
   */
  rekeyPinVerifier?: string;
  rekeyEmergencyVerifier?: string;
}

export interface Outcome {
  decision: Decision;
  change: StateChange;
}

export function reject(reason: RejectReason, change: StateChange = {}): Outcome {
  return { decision: { result: "reject", reason }, change };
}

/**
 * A success that proved the PIN (PIN + code, PIN + emergency password, or the next code after PIN + code)
 * clears the failure count, whatever kind of attempt built it up; written only when there is one to clear.
 * A success without the PIN (a first-use code, choosing a first PIN) leaves the count as it is.
 */
export function resetFailures(record: FailureRecord): StateChange {
  return record.failures > 0 ? { failures: "reset" } : {};
}

/** One more failure for the user, counted across every kind of attempt. */
export function countFailure(record: FailureRecord, now: number, policy: VerificationPolicy): StateChange {
  return { failures: autoUnlocked(record, now, policy) ? "restart" : "increment" };
}
