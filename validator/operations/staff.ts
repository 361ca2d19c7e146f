import { normaliseUserId } from "../../common/identifiers.js";
import type { Kysely } from "kysely";
import type { ValidatorContext } from "../context.js";
import { mayOpenAccount, type AccountOpening } from "../policy/staff-accounts.js";
import { appendAudit, type Actor } from "../storage/audit-log.js";
import { voidChallenges } from "../storage/challenge-epoch.js";
import { endConsoleSessions } from "../storage/console-session-end.js";
import type { Schema } from "../storage/schema.js";
import { lockUserRow } from "../storage/user-row-lock.js";
import { OperationError } from "./operation-error.js";
import type { Admission } from "./validation.js";

/** Console roles: the API's, less `portal` (a login portal is not a person). */
export const staffRoles = ["support", "helpdesk", "auditor"] as const;
export type StaffRole = (typeof staffRoles)[number];

export interface StaffMember {
  user: string;
  role: StaffRole;
  addedAt: string;
  addedBy: string;
}

/** A staff member is a Jeton user holding a token: they sign in to the console with it. */
export async function addStaff(ctx: ValidatorContext, actor: Actor, givenUser: string, role: StaffRole): Promise<StaffMember> {
  const user = normaliseUserId(givenUser);
  const now = ctx.now();
  await ctx.database.transaction(async (trx) => {
    const token = await trx.selectFrom("tokens").select("serial").where("user_name", "=", user).executeTakeFirst();
    if (!token) throw new OperationError("invalid", `${user} holds no token: assign one first (staff sign in to the console with their own token)`);
    // Nothing opened under the rules for other users carries over: open challenges are voided (which
    // also writes the row openingRefusal locks) and an emergency password is revoked.
    await voidChallenges(trx, user);
    const revoked = await trx.deleteFrom("emergency_passwords").where("user_name", "=", user).executeTakeFirst();
    await trx
      .insertInto("staff")
      .values({ user_name: user, role, added_at: now, added_by: actor.id })
      .onConflict((conflict) => conflict.column("user_name").doUpdateSet({ role, added_at: now, added_by: actor.id }))
      .execute();
    await appendAudit(trx, actor, now, { event: "staff.add", result: "ok", user, detail: { role, ...(revoked.numDeletedRows > 0n && { emergencyRevoked: true }) } });
  });
  return (await listStaff(ctx)).find((member) => member.user === user)!;
}

/** Removes a staff member and ends their console sessions at once. */
export async function removeStaff(ctx: ValidatorContext, actor: Actor, givenUser: string): Promise<{ user: string; sessionsEnded: number }> {
  const user = normaliseUserId(givenUser);
  const now = ctx.now();
  return ctx.database.transaction(async (trx) => {
    const removed = await trx.deleteFrom("staff").where("user_name", "=", user).executeTakeFirst();
    if (removed.numDeletedRows === 0n) throw new OperationError("not-found", `${user} is not a staff member`);
    const sessionsEnded = await endConsoleSessions(trx, user);
    await appendAudit(trx, actor, now, { event: "staff.remove", result: "ok", user, detail: { sessionsEnded } });
    return { user, sessionsEnded };
  });
}

export async function listStaff(ctx: ValidatorContext): Promise<StaffMember[]> {
  const rows = await ctx.database.db.selectFrom("staff").selectAll().orderBy("user_name").execute();
  return rows.map((row) => ({ user: row.user_name, role: row.role as StaffRole, addedAt: new Date(row.added_at).toISOString(), addedBy: row.added_by }));
}

export async function staffRole(db: Kysely<Schema>, user: string): Promise<StaffRole | null> {
  const row = await db.selectFrom("staff").select("role").where("user_name", "=", normaliseUserId(user)).executeTakeFirst();
  return row ? (row.role as StaffRole) : null;
}

/**
 * Refuses an opening change (policy/staff-accounts.ts) to a staff member's account by a role that does not
 * outrank theirs, read in the change's own transaction. The user's row is locked first, as `addStaff`
 * writes it: on PostgreSQL a staff member added meanwhile is then seen here, never after the check. The
 * refusal is audited in `trx` (an attempt on a colleague's account is what an auditor looks for): the
 * caller commits, then throws what this returns.
 */
export async function openingRefusal(
  trx: Kysely<Schema>,
  actor: Actor,
  now: number,
  opening: AccountOpening,
  entry: { event: string; user: string; serial?: string },
): Promise<OperationError | null> {
  await lockUserRow(trx, entry.user);
  const role = await staffRole(trx, entry.user);
  if (mayOpenAccount(actor.role, role)) return null;
  await appendAudit(trx, actor, now, { ...entry, result: "refused", detail: { reason: "staff-account", staffRole: role } });
  return new OperationError(
    "forbidden",
    `${entry.user} is a staff member (${role}): a ${opening} on their account needs a role above theirs. ` +
      `For a help-desk account, the operator's local command: jeton staff ${operatorCommand[opening]}.`,
  );
}

/**
 * Runs `work` in one transaction; a refusal it returns (openingRefusal's, audited in that transaction) is
 * thrown once the transaction has committed, so its audit row stays.
 */
export async function refusableTransaction(ctx: ValidatorContext, work: (trx: Kysely<Schema>) => Promise<OperationError | void>): Promise<void> {
  const refusal = await ctx.database.transaction(work);
  if (refusal) throw refusal;
}

/** The `jeton staff` command by which the operator makes each opening change on the database itself. */
const operatorCommand: Record<AccountOpening, string> = {
  "pin-reset": "pin-reset <user>",
  "token-assign": "assign <serial> <user>",
  "token-enable": "enable <serial>",
  "emergency-issue": "emergency <user>",
  unlock: "unlock <user>",
};

/**
 * The console's door for validation: staff only, checked in the validation's own transaction (a
 * non-staff user's good passcode is refused like a wrong one and not consumed), and never with an
 * emergency password (support must not be able to sign in as support with one it issued).
 */
export const staffDoor: Admission = {
  admits: (loaded) => loaded.staff,
  acceptsEmergencyPasswords: false,
};
