import type { Kysely } from "kysely";
import { normaliseUserId } from "../../common/identifiers.js";
import type { ValidatorContext } from "../context.js";
import { gate, standing } from "../policy/lockout.js";
import type { AccountOpening } from "../policy/staff-accounts.js";
import { appendAudit, type Actor } from "../storage/audit-log.js";
import type { Schema } from "../storage/schema.js";
import { voidChallenges } from "../storage/challenge-epoch.js";
import { endConsoleSessions } from "../storage/console-session-end.js";
import { OperationError } from "./operation-error.js";
import { openingRefusal, refusableTransaction, staffRole, type StaffRole } from "./staff.js";

export interface UserView {
  user: string;
  pinSet: boolean;
  lastAttemptAt: string | null;
  /** open, throttled (until a time) or locked (until a help-desk unlock). */
  lockout: { state: "open" | "throttled" | "locked"; failures: number; until?: string };
  tokens: { serial: string; status: "active" | "disabled"; disabledReason: string | null; lastUsedAt: string | null }[];
  emergency: { expiresAt: string } | null;
  /** The user's console role, or null for a user who is not staff. */
  staffRole: StaffRole | null;
}

export async function getUser(ctx: ValidatorContext, givenUser: string): Promise<UserView> {
  const user = normaliseUserId(givenUser);
  const db = ctx.database.db;
  const row = await db.selectFrom("users").selectAll().where("name", "=", user).executeTakeFirst();
  if (!row) throw new OperationError("not-found", `no user ${user}`);
  const tokens = await db
    .selectFrom("tokens")
    .select(["serial", "disabled_at", "disabled_reason", "last_used_at"])
    .where("user_name", "=", user)
    .orderBy("serial")
    .execute();
  const emergency = await db.selectFrom("emergency_passwords").select("expires_at").where("user_name", "=", user).executeTakeFirst();
  const now = ctx.now();
  const record = { failures: row.failures, lastFailureAt: row.last_failure_at };
  const lock = gate(record, now, ctx.policy);
  return {
    user,
    pinSet: row.pin_verifier !== null,
    lastAttemptAt: row.last_attempt_at === null ? null : new Date(row.last_attempt_at).toISOString(),
    lockout: {
      state: lock.state,
      failures: standing(record, now, ctx.policy).failures,
      ...(lock.state === "throttled" && { until: new Date(lock.until).toISOString() }),
    },
    tokens: tokens.map((token) => ({
      serial: token.serial,
      status: token.disabled_at === null ? ("active" as const) : ("disabled" as const),
      disabledReason: token.disabled_reason,
      lastUsedAt: token.last_used_at === null ? null : new Date(token.last_used_at).toISOString(),
    })),
    emergency: emergency && emergency.expires_at >= now ? { expiresAt: new Date(emergency.expires_at).toISOString() } : null,
    staffRole: await staffRole(db, user),
  };
}

/**
 * Back to first use: the next login is the code alone, then the user chooses a new PIN. An active
 * emergency password goes too (it works only with the PIN, and support must never end up holding a
 * way in), and so does every open challenge and, for a staff member, every console session.
 */
export async function resetPin(ctx: ValidatorContext, actor: Actor, givenUser: string): Promise<UserView> {
  await updateUser(ctx, actor, givenUser, "user.pin-reset", { pin_verifier: null }, {
    opening: "pin-reset",
    alsoDo: async (trx, user) => {
      const revoked = await trx.deleteFrom("emergency_passwords").where("user_name", "=", user).executeTakeFirst();
      // A staff member's console sessions were opened with the PIN being reset (seen, say): they end too.
      const sessionsEnded = await endConsoleSessions(trx, user);
      const detail = { ...(revoked.numDeletedRows > 0n && { emergencyRevoked: true }), ...(sessionsEnded > 0 && { sessionsEnded }) };
      return Object.keys(detail).length > 0 ? detail : undefined;
    },
  });
  return getUser(ctx, givenUser);
}

export async function unlockUser(ctx: ValidatorContext, actor: Actor, user: string): Promise<UserView> {
  await updateUser(ctx, actor, user, "user.unlock", { failures: 0, last_failure_at: null }, { opening: "unlock" });
  return getUser(ctx, user);
}

/** A help-desk change of the user's row; it voids the user's open challenges. */
async function updateUser(
  ctx: ValidatorContext,
  actor: Actor,
  givenUser: string,
  event: string,
  values: { pin_verifier?: null; failures?: number; last_failure_at?: null },
  { opening, alsoDo }: { opening?: AccountOpening; alsoDo?: (trx: Kysely<Schema>, user: string) => Promise<Record<string, unknown> | undefined> } = {},
): Promise<void> {
  const user = normaliseUserId(givenUser);
  const now = ctx.now();
  await refusableTransaction(ctx, async (trx) => {
    const refused = opening && (await openingRefusal(trx, actor, now, opening, { event, user }));
    if (refused) return refused;
    const result = await trx.updateTable("users").set(values).where("name", "=", user).executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw new OperationError("not-found", `no user ${user}`);
    await voidChallenges(trx, user);
    const detail = await alsoDo?.(trx, user);
    await appendAudit(trx, actor, now, { event, result: "ok", user, ...(detail && { detail }) });
  });
}
