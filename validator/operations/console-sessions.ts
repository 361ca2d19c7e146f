import { createHash, randomBytes } from "node:crypto";
import type { ValidatorContext } from "../context.js";
import { sessionEnd, type ConsoleSessionLimits, type SessionEnd } from "../policy/console-session.js";
import { appendAudit } from "../storage/audit-log.js";
import { staffRole, type StaffRole } from "./staff.js";

/** A signed-in staff member's session, as the console needs it for one request. */
export interface ConsoleSession {
  staffUser: string;
  role: StaffRole;
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
  steppedUpAt: number | null;
}

export type SessionLookup =
  | { state: "active"; session: ConsoleSession }
  | { state: "ended"; reason: SessionEnd | "staff-removed" | "no-active-token" }
  | { state: "none" };

/** Session ids are random 256-bit secrets, so a plain SHA-256 is a sufficient verifier. */
function hashId(id: string): string {
  return createHash("sha256").update(id).digest("base64url");
}

function staffActor(staffUser: string, role: string, source: string) {
  return { id: `user:${staffUser}`, role, source };
}

/**
 * A new session after an accepted sign-in (always a new id, so a session id planted before sign-in is
 * worthless); audited. `acceptedSerial` is the token the passcode was accepted on (null for a first PIN).
 *
 * The validation has committed before this runs, so what ends sessions (a PIN reset, the token disabled
 * or taken away, the staff member removed) may have committed in between, finding no session to end: an
 * attacker review kept a stepped-up session that way. So, the user's row locked first (as those changes
 * lock it), the session opens only if the staff member still has a PIN, still holds that token active
 * (any active token after a first PIN) and still has a role; otherwise it is refused (null) and audited.
 */
export async function openSession(
  ctx: ValidatorContext,
  staffUser: string,
  acceptedSerial: string | null,
  source: string,
): Promise<{ id: string; csrfToken: string; role: StaffRole } | null> {
  const now = ctx.now();
  const id = randomBytes(32).toString("base64url");
  const csrfToken = randomBytes(32).toString("base64url");
  return ctx.database.transaction(async (trx) => {
    await trx.updateTable("users").set((update) => ({ epoch: update.ref("epoch") })).where("name", "=", staffUser).execute();
    const role = await staffRole(trx, staffUser);
    const user = await trx.selectFrom("users").select("pin_verifier").where("name", "=", staffUser).executeTakeFirst();
    let heldTokens = trx.selectFrom("tokens").select("serial").where("user_name", "=", staffUser).where("disabled_at", "is", null);
    if (acceptedSerial !== null) heldTokens = heldTokens.where("serial", "=", acceptedSerial);
    const held = await heldTokens.executeTakeFirst();
    const changed = !user || user.pin_verifier === null ? "pin-reset" : held === undefined ? "token-taken-away" : null;
    if (role === null || changed !== null) {
      const reason = role === null ? "staff-removed" : changed;
      await appendAudit(trx, staffActor(staffUser, role ?? "none", source), now, { event: "console.sign-in", result: "refused", user: staffUser, detail: { reason } });
      return null;
    }
    await trx
      .insertInto("console_sessions")
      .values({ id_hash: hashId(id), staff_user: staffUser, csrf_token: csrfToken, created_at: now, last_seen_at: now, stepped_up_at: now })
      .execute();
    await appendAudit(trx, staffActor(staffUser, role, source), now, { event: "console.sign-in", result: "ok", user: staffUser });
    return { id, csrfToken, role };
  });
}

/**
 * The session behind `id`, touched (the idle time starts over). A session past its idle or maximum
 * time, or whose staff member was removed or holds no active token any more, is ended here and audited.
 */
export async function resumeSession(ctx: ValidatorContext, id: string, limits: ConsoleSessionLimits, source: string): Promise<SessionLookup> {
  const now = ctx.now();
  return ctx.database.transaction(async (trx): Promise<SessionLookup> => {
    const row = await trx
      .selectFrom("console_sessions")
      .leftJoin("staff", "staff.user_name", "console_sessions.staff_user")
      .select(["console_sessions.staff_user", "console_sessions.csrf_token", "console_sessions.created_at", "console_sessions.last_seen_at", "console_sessions.stepped_up_at", "staff.role"])
      .where("id_hash", "=", hashId(id))
      .executeTakeFirst();
    if (!row) return { state: "none" };
    const activeToken = await trx
      .selectFrom("tokens")
      .select("serial")
      .where("user_name", "=", row.staff_user)
      .where("disabled_at", "is", null)
      .executeTakeFirst();
    const times = { createdAt: row.created_at, lastSeenAt: row.last_seen_at, steppedUpAt: row.stepped_up_at };
    const reason = row.role === null ? "staff-removed" : activeToken === undefined ? "no-active-token" : sessionEnd(times, now, limits);
    if (reason !== null) {
      await trx.deleteFrom("console_sessions").where("id_hash", "=", hashId(id)).execute();
      await appendAudit(trx, staffActor(row.staff_user, row.role ?? "none", source), now, { event: "console.session-end", result: reason, user: row.staff_user });
      return { state: "ended", reason };
    }
    await trx.updateTable("console_sessions").set({ last_seen_at: now }).where("id_hash", "=", hashId(id)).execute();
    return {
      state: "active",
      session: { staffUser: row.staff_user, role: row.role as StaffRole, csrfToken: row.csrf_token, ...times, lastSeenAt: now },
    };
  });
}

/** Sign-out: the session ends on the server, whatever the browser keeps. */
export async function closeSession(ctx: ValidatorContext, id: string, session: ConsoleSession, source: string): Promise<void> {
  const now = ctx.now();
  await ctx.database.transaction(async (trx) => {
    await trx.deleteFrom("console_sessions").where("id_hash", "=", hashId(id)).execute();
    await appendAudit(trx, staffActor(session.staffUser, session.role, source), now, { event: "console.sign-out", result: "ok", user: session.staffUser });
  });
}

/** After a fresh passcode: sensitive actions are open for the step-up time. */
export async function recordStepUp(ctx: ValidatorContext, id: string): Promise<void> {
  await ctx.database.db.updateTable("console_sessions").set({ stepped_up_at: ctx.now() }).where("id_hash", "=", hashId(id)).execute();
}
