import type { FailureRecord } from "./lockout.js";
import type { TotpParameters } from "./totp.js";

/** An active (not disabled) token of the user, with its seed in clear (opened when first read: operations/validation.ts). */
export interface TokenState {
  serial: string;
  secret: Uint8Array;
  parameters: TotpParameters;
  /** Learned clock offset of the token, in steps. */
  offset: number;
  /** Highest step ever accepted for this token; codes at or before it are replays. */
  lastStep: number | null;
  /**
   * When the token was last accepted (Unix ms; its registration if never): the next-code challenge window
   * grows with the time since (challenge-window.ts). Absent: unknown, the base window applies.
   */
  lastAcceptedAt?: number | null;
  /** A stand-in with a random seed, checked so that every reject costs the same work, never matched. */
  decoy?: true;
}

export interface EmergencyState {
  verifier: string;
  expiresAt: number;
}

/** Everything the rules need to know about a user, read in one transaction. */
export interface UserState {
  user: string;
  /** False for an unknown user: the rules still do the same work, then reject. */
  known: boolean;
  pinVerifier: string | null;
  lockout: FailureRecord;
  /** Bumped by every change that voids open challenges: PIN set or reset, token changes, unlock, a newer challenge. */
  epoch: number;
  tokens: TokenState[];
  emergency: EmergencyState | null;
}

export type ChallengeKind = "new-pin" | "next-code";

export interface ChallengeState {
  /** The id as the caller gave it (storage keeps only its hash). */
  id: string;
  user: string;
  kind: ChallengeKind;
  /** For next-code: the token and the step of the out-of-window code that opened the challenge. */
  serial: string | null;
  step: number | null;
  openedAt: number;
  expiresAt: number;
  /** The user's epoch when it was opened: answerable only while the user's epoch is still that one. */
  epoch: number;
  /** Already answered (accepted or not): a retry is refused without counting a failure. */
  answered: boolean;
}

/** Keyed verifier checks: the rules decide, the keys stay in secrets/. */
export interface VerifierChecks {
  pinMatches(user: string, candidate: string, verifier: string): boolean;
  emergencyMatches(user: string, candidate: string, verifier: string): boolean;
  pinVerifier(user: string, pin: string): string;
  emergencyVerifier(user: string, password: string): string;
}
