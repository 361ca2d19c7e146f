import { createHash } from "node:crypto";
import type { StateChange } from "../policy/outcome.js";
import type { ChallengeKind, ChallengeState, TokenState, UserState } from "../policy/state.js";
import type { HashAlgorithm } from "../../common/profile.js";
import type { SealedSeed } from "../secrets/seed-vault.js";
import type { Actor, AuditEntry } from "./audit-log.js";

/**
 * Where a passcode attempt meets storage: one atomic unit that loads what the rules need, hands it to
 * them, and writes what they decided together with its audit record. Each dialect implements it with
 * statements prepared once (sqlite-attempts.ts, postgres-attempts.ts); the rules stay in policy/.
 */
export interface AttemptStore {
  run<T>(request: AttemptRequest, decide: (loaded: LoadedAttempt) => AttemptWrite<T>): Promise<T>;
}

export interface AttemptRequest {
  /** Normalised (common/identifiers.ts). */
  user: string;
  /** The challenge being answered, or null for a passcode. */
  challengeId: string | null;
  actor: Actor;
  now: number;
}

/** A token as stored: its seed still sealed (operations open it, storage never holds a seed in clear). */
export type StoredToken = Omit<TokenState, "secret" | "decoy"> & { sealed: SealedSeed };

export type StoredUserState = Omit<UserState, "tokens"> & { tokens: StoredToken[] };

export interface LoadedAttempt {
  /** Null for an unknown user. Locked on PostgreSQL until the write: attempts of one user go one by one. */
  state: StoredUserState | null;
  /** The challenge answered, when the request names one that is the user's (looked up for unknown users too). */
  challenge: ChallengeState | null;
  /** The user is a staff member (the console's door). Always loaded, so asking costs nothing extra. */
  staff: boolean;
}

/** What `decide` returns: the change and the audit entry written atomically, and its own result. */
export interface AttemptWrite<T> {
  change: StateChange;
  audit: AuditEntry;
  result: T;
}

/** Thrown when a write finds the state changed under it; nothing of the attempt is written. */
export class ConcurrentChange extends Error {}

/**
 * Challenge ids are random 122-bit UUIDs: a plain SHA-256 is enough to keep a database reader from
 * answering one (nothing to brute-force), and it is all the table ever holds.
 */
export function challengeKey(id: string): string {
  return createHash("sha256").update(id).digest("hex");
}

/** One row of the user + active tokens + emergency password join, as both dialects select it. */
export interface UserStateRow {
  user_name: string;
  pin_verifier: string | null;
  failures: number;
  last_failure_at: number | null;
  epoch: number;
  serial: string | null;
  sealed_secret: string | null;
  key_id: string | null;
  algorithm: string | null;
  digits: number | null;
  period: number | null;
  t0: number | null;
  offset_steps: number | null;
  last_step: number | null;
  /** Never accepted: its registration (the challenge window grows from there). */
  last_accepted_at: number | string | null;
  emergency_verifier: string | null;
  emergency_expires_at: number | null;
}

/** The rows of one user (ordered by serial) as the rules' state; null when there are none (unknown user). */
export function userStateFromRows(user: string, rows: UserStateRow[]): StoredUserState | null {
  const [first] = rows;
  if (!first) return null;
  return {
    user,
    known: true,
    pinVerifier: first.pin_verifier,
    lockout: { failures: first.failures, lastFailureAt: first.last_failure_at },
    epoch: first.epoch,
    tokens: rows.flatMap((token): StoredToken[] =>
      token.serial === null
        ? []
        : [
            {
              serial: token.serial,
              sealed: { ciphertext: token.sealed_secret!, keyId: token.key_id! },
              parameters: { algorithm: token.algorithm as HashAlgorithm, digits: token.digits!, period: token.period!, t0: token.t0! },
              offset: token.offset_steps!,
              lastStep: token.last_step,
              lastAcceptedAt: token.last_accepted_at === null ? null : Number(token.last_accepted_at),
            },
          ],
    ),
    emergency: first.emergency_verifier === null ? null : { verifier: first.emergency_verifier, expiresAt: first.emergency_expires_at! },
  };
}

export interface ChallengeRow {
  /** challengeKey of the id. */
  id: string;
  user_name: string;
  kind: string;
  serial: string | null;
  step: number | null;
  opened_at: number;
  expires_at: number;
  epoch: number;
  answered_at: number | null;
}

export function challengeFromRow(id: string, row: ChallengeRow | undefined): ChallengeState | null {
  if (!row) return null;
  return {
    id,
    user: row.user_name,
    kind: row.kind as ChallengeKind,
    serial: row.serial,
    step: row.step,
    openedAt: row.opened_at,
    expiresAt: row.expires_at,
    epoch: row.epoch,
    answered: row.answered_at !== null,
  };
}

/**
 * The users-row update every attempt makes, as statement parameters: rejects included, so a locked
 * user's attempt costs what a wrong one does (for an unknown user it matches no row).
 */
export function userUpdateParameters(change: StateChange) {
  return {
    failures: change.failures ?? null,
    // A new PIN voids every open challenge (epoch + 1); a new challenge sets the epoch it was opened at.
    newPinVerifier: change.rekeyPinVerifier ?? change.setPinVerifier ?? null,
    bumpEpoch: change.setPinVerifier !== undefined ? 1 : 0,
    challengeEpoch: change.createChallenge?.epoch ?? null,
  };
}

/**
 * The reads of an attempt, the same in both dialects but for which users they select (`u.name = ?` in
 * SQLite, a batch's users in PostgreSQL). The user's row joined with their active tokens and their
 * emergency password, and whether they are staff; ordered by user, then serial.
 */
export const loadUserStatesSql = (users: string) => `SELECT u.name AS user_name, u.pin_verifier, u.failures, u.last_failure_at, u.epoch,
         t.serial, t.sealed_secret, t.key_id, t.algorithm, t.digits, t.period, t.t0, t.offset_steps, t.last_step,
         coalesce(t.last_used_at, t.created_at) AS last_accepted_at,
         e.verifier AS emergency_verifier, e.expires_at AS emergency_expires_at,
         EXISTS (SELECT 1 FROM staff s WHERE s.user_name = u.name) AS staff
    FROM users u
    LEFT JOIN tokens t ON t.user_name = u.name AND t.disabled_at IS NULL
    LEFT JOIN emergency_passwords e ON e.user_name = u.name
   WHERE ${users}
   ORDER BY u.name, t.serial`;

/** The challenges answered (by the hash of their ids); a caller keeps one only if it is its user's. */
export const loadChallengesSql = (challenges: string) =>
  `SELECT id, user_name, kind, serial, step, opened_at, expires_at, epoch, answered_at FROM challenges WHERE ${challenges}`;
