import { createHash } from "node:crypto";
import type { Kysely } from "kysely";
import type { StateChange } from "../policy/outcome.js";
import type { ChallengeKind, ChallengeState, TokenState, UserState } from "../policy/state.js";
import type { HashAlgorithm } from "../../common/profile.js";
import type { SeedVault } from "../secrets/seed-vault.js";
import type { Dialect } from "./database.js";
import type { Schema } from "./schema.js";

/** Thrown when a write finds the state changed under it; the transaction is rolled back. */
export class ConcurrentChange extends Error {}

/**
 * Reads what the rules need about `user`, locking the user's row on PostgreSQL so that attempts for one
 * user are decided one after the other across all validator instances (SQLite serialises writers).
 * Everything else is read in one statement.
 * Returns null for an unknown user.
 */
export async function loadUserState(
  trx: Kysely<Schema>,
  dialect: Dialect,
  user: string,
  vault: SeedVault,
): Promise<UserState | null> {
  if (dialect === "postgres") {
    // Lock first, read after: a statement that waited for the lock would otherwise see the tokens and
    // emergency password as they were before the previous holder committed (READ COMMITTED snapshots).
    await trx.selectFrom("users").select("name").where("name", "=", user).forUpdate().execute();
  }
  const rows = await trx
    .selectFrom("users")
    .leftJoin("tokens", (join) => join.onRef("tokens.user_name", "=", "users.name").on("tokens.disabled_at", "is", null))
    .leftJoin("emergency_passwords", "emergency_passwords.user_name", "users.name")
    .select([
      "users.pin_verifier",
      "users.failures",
      "users.last_failure_at",
      "users.epoch",
      "tokens.serial",
      "tokens.sealed_secret",
      "tokens.key_id",
      "tokens.algorithm",
      "tokens.digits",
      "tokens.period",
      "tokens.t0",
      "tokens.offset_steps",
      "tokens.last_step",
      // Never accepted: its registration, when its clock was set (the challenge window grows from there).
      (eb) => eb.fn.coalesce("tokens.last_used_at", "tokens.created_at").as("last_accepted_at"),
      "emergency_passwords.verifier as emergency_verifier",
      "emergency_passwords.expires_at as emergency_expires_at",
    ])
    .where("users.name", "=", user)
    .orderBy("tokens.serial")
    .execute();
  const [first] = rows;
  if (!first) return null;
  return {
    user,
    known: true,
    pinVerifier: first.pin_verifier,
    lockout: { failures: first.failures, lastFailureAt: first.last_failure_at },
    epoch: first.epoch,
    tokens: rows.flatMap((token): TokenState[] =>
      token.serial === null
        ? []
        : [
            {
              serial: token.serial,
              secret: vault.open(token.serial, { ciphertext: token.sealed_secret!, keyId: token.key_id! }),
              parameters: {
                algorithm: token.algorithm as HashAlgorithm,
                digits: token.digits!,
                period: token.period!,
                t0: token.t0!,
              },
              offset: token.offset_steps!,
              lastStep: token.last_step,
              lastAcceptedAt: token.last_accepted_at === null ? null : Number(token.last_accepted_at),
            },
          ],
    ),
    emergency:
      first.emergency_verifier === null ? null : { verifier: first.emergency_verifier, expiresAt: first.emergency_expires_at! },
  };
}

/**
 * Challenge ids are random 122-bit UUIDs: a plain SHA-256 is enough to keep a database reader from
 * answering one (nothing to brute-force), and it is all the table ever holds.
 */
function challengeKey(id: string): string {
  return createHash("sha256").update(id).digest("hex");
}

/** Run for unknown users too (matching nothing), so answering costs the same queries either way. */
export async function loadChallenge(trx: Kysely<Schema>, user: string, id: string): Promise<ChallengeState | null> {
  const row = await trx
    .selectFrom("challenges")
    .selectAll()
    .where("id", "=", challengeKey(id))
    .where("user_name", "=", user)
    .executeTakeFirst();
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
 * Voids every open challenge of `user`: called in the transaction of each help-desk change that alters
 * what a challenge was opened on (PIN reset, token assigned, unassigned, disabled or enabled, unlock).
 */
export async function voidChallenges(trx: Kysely<Schema>, user: string): Promise<void> {
  await trx.updateTable("users").set((set) => ({ epoch: set("epoch", "+", 1) })).where("name", "=", user).execute();
}

/** Writes what the rules decided, inside the transaction that loaded the state. */
export async function applyChange(trx: Kysely<Schema>, user: string, change: StateChange, now: number): Promise<void> {
  if (change.acceptStep) {
    const { serial, step, offset } = change.acceptStep;
    const result = await trx
      .updateTable("tokens")
      .set({ last_step: step, offset_steps: offset, last_used_at: now })
      .where("serial", "=", serial)
      .where((where) => where.or([where("last_step", "is", null), where("last_step", "<", step)]))
      .executeTakeFirst();
    if (result.numUpdatedRows !== 1n) throw new ConcurrentChange(`step ${step} of ${serial} was already accepted`);
  }
  // Every attempt writes the user's row, rejects included, so a locked user's attempt costs what a
  // wrong one does (and for an unknown user the same statement runs, matching no row).
  await trx
    .updateTable("users")
    .set((set) => ({
      last_attempt_at: now,
      ...(change.failures === "increment" && { failures: set("failures", "+", 1), last_failure_at: now }),
      ...(change.failures === "restart" && { failures: 1, last_failure_at: now }),
      ...(change.failures === "reset" && { failures: 0, last_failure_at: null }),
      // A new PIN voids every open challenge (a new one sets the epoch it was opened at).
      ...(change.setPinVerifier && { pin_verifier: change.setPinVerifier, epoch: set("epoch", "+", 1) }),
      ...(change.createChallenge && { epoch: change.createChallenge.epoch }),
      ...(change.rekeyPinVerifier && { pin_verifier: change.rekeyPinVerifier }),
    }))
    .where("name", "=", user)
    .execute();
  if (change.rekeyEmergencyVerifier) {
    await trx.updateTable("emergency_passwords").set({ verifier: change.rekeyEmergencyVerifier }).where("user_name", "=", user).execute();
  }
  if (change.revokeEmergency) {
    await trx.deleteFrom("emergency_passwords").where("user_name", "=", user).execute();
  }
  if (change.consumeChallenge) {
    // Kept (until it expires) as answered, so a retry is recognised rather than counted as a failure.
    await trx.updateTable("challenges").set({ answered_at: now }).where("id", "=", challengeKey(change.consumeChallenge)).execute();
  }
  if (change.createChallenge) {
    const challenge = change.createChallenge;
    await trx.deleteFrom("challenges").where("user_name", "=", user).where("expires_at", "<", now).execute();
    await trx
      .insertInto("challenges")
      .values({
        id: challengeKey(challenge.id),
        user_name: user,
        kind: challenge.kind,
        serial: challenge.serial,
        step: challenge.step,
        opened_at: now,
        expires_at: challenge.expiresAt,
        epoch: challenge.epoch,
      })
      .execute();
  }
}
