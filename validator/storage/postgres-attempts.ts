import type { Kysely } from "kysely";
import type { StateChange } from "../policy/outcome.js";
import { appendAudit } from "./audit-log.js";
import {
  challengeFromRow,
  challengeKey,
  ConcurrentChange,
  userStateFromRows,
  userUpdateParameters,
  type AttemptStore,
} from "./attempt-store.js";
import type { Database } from "./database.js";
import type { Schema } from "./schema.js";

/**
 * The attempt store on PostgreSQL: the user's row is locked first, so attempts for one user are decided
 * one after the other across all validator instances.
 */
export function postgresAttemptStore(database: Pick<Database, "transaction">): AttemptStore {
  return {
    run(request, decide) {
      const { user, challengeId, actor, now } = request;
      return database.transaction(async (trx) => {
        // Lock first, read after: a statement that waited for the lock would otherwise see the tokens and
        // emergency password as they were before the previous holder committed (READ COMMITTED snapshots).
        await trx.selectFrom("users").select("name").where("name", "=", user).forUpdate().execute();
        const rows = await trx
          .selectFrom("users")
          .leftJoin("tokens", (join) => join.onRef("tokens.user_name", "=", "users.name").on("tokens.disabled_at", "is", null))
          .leftJoin("emergency_passwords", "emergency_passwords.user_name", "users.name")
          .select((eb) => [
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
            eb.fn.coalesce("tokens.last_used_at", "tokens.created_at").as("last_accepted_at"),
            "emergency_passwords.verifier as emergency_verifier",
            "emergency_passwords.expires_at as emergency_expires_at",
            eb.exists(eb.selectFrom("staff").select("staff.user_name").whereRef("staff.user_name", "=", "users.name")).as("staff"),
          ])
          .where("users.name", "=", user)
          .orderBy("tokens.serial")
          .execute();
        const challenge =
          challengeId === null
            ? null
            : challengeFromRow(
                challengeId,
                await trx.selectFrom("challenges").selectAll().where("id", "=", challengeKey(challengeId)).where("user_name", "=", user).executeTakeFirst(),
              );
        const { change, audit, result } = decide({ state: userStateFromRows(user, rows), challenge, staff: rows[0]?.staff === true });
        await applyChange(trx, user, change, now);
        await appendAudit(trx, actor, now, audit);
        return result;
      });
    },
  };
}

async function applyChange(trx: Kysely<Schema>, user: string, change: StateChange, now: number): Promise<void> {
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
  const { failures, newPinVerifier, bumpEpoch, challengeEpoch } = userUpdateParameters(change);
  await trx
    .updateTable("users")
    .set((set) => ({
      last_attempt_at: now,
      ...(failures === "increment" && { failures: set("failures", "+", 1), last_failure_at: now }),
      ...(failures === "restart" && { failures: 1, last_failure_at: now }),
      ...(failures === "reset" && { failures: 0, last_failure_at: null }),
      ...(newPinVerifier !== null && { pin_verifier: newPinVerifier }),
      ...(bumpEpoch === 1 && { epoch: set("epoch", "+", 1) }),
      ...(challengeEpoch !== null && { epoch: challengeEpoch }),
    }))
    .where("name", "=", user)
    .execute();
  if (change.rekeyEmergencyVerifier) {
    await trx.updateTable("emergency_passwords").set({ verifier: change.rekeyEmergencyVerifier }).where("user_name", "=", user).execute();
  }
  if (change.revokeEmergency) await trx.deleteFrom("emergency_passwords").where("user_name", "=", user).execute();
  if (change.consumeChallenge) {
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
