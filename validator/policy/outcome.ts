import type { WeakPinReason } from "./pin-strength.js";
import type { ChallengeKind } from "./state.js";

/** Why an attempt was rejected: for the audit log only, never for the caller. */
export type RejectReason =
  | "unknown-user"
  | "locked"
  | "throttled"
  | "bad-passcode"
  | "challenge-unknown"
  | "challenge-expired"
  | "wrong-next-code";

export type Decision =
  | { result: "accept"; via: "token" | "emergency"; serial: string | null }
  | { result: "reject"; reason: RejectReason }
  | { result: "challenge"; kind: ChallengeKind; id: string; expiresAt: number; weakPin?: WeakPinReason };

/** What the storage edge must write, all in the transaction that read the state. */
export interface StateChange {
  failures?: "increment" | "reset";
  /** Written only if the step is still above the token's last accepted step (replay guard). */
  acceptStep?: { serial: string; step: number; offset: number };
  revokeEmergency?: boolean;
  createChallenge?: { id: string; kind: ChallengeKind; serial: string | null; step: number | null; expiresAt: number };
  consumeChallenge?: string;
  setPinVerifier?: string;
}

export interface Outcome {
  decision: Decision;
  change: StateChange;
}

export function reject(reason: RejectReason, change: StateChange = {}): Outcome {
  return { decision: { result: "reject", reason }, change };
}

/** Success clears the failure count (written only when there is one to clear). */
export function resetFailures(failures: number): StateChange {
  return failures > 0 ? { failures: "reset" } : {};
}
