import { createHash, randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import type { ValidatorContext } from "../context.js";
import { sessionEnd, type ConsoleSessionLimits, type SessionEnd } from "../policy/console-session.js";
import { appendAudit } from "../storage/audit-log.js";
import type { Schema } from "../storage/schema.js";
import { lockUserRow } from "../storage/user-row-lock.js";
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
 * worthless); audited. `acceptedSerial` is the token the passcode was accepted on.
 *
 * The validation has committed before this runs, so what ends sessions (a PIN reset, the token disabled
 * or taken away, the staff member removed) may have committed in between, finding no session to end: an
 * attacker review kept a stepped-up session that way. So the session opens only if the sign-in still
 * stands (`signInStanding`); otherwise it is refused (null) and audited.
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
    const { role, voided } = await signInStanding(trx, staffUser, acceptedSerial);
    if (role === null || voided !== null) {
      await appendAudit(trx, staffActor(staffUser, role ?? "none", source), now, { event: "console.sign-in", result: "refused", user: staffUser, detail: { reason: voided ?? "staff-removed" } });
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
 * Whether a passcode accepted for `staffUser` on `acceptedSerial` (any active token when null: a
 * challenge opened before challenges named their token) still stands, read with the user's row locked
 * first (as a PIN reset and every token change lock it): their role, and why it no longer stands, if so.
 */
async function signInStanding(
  trx: Kysely<Schema>,
  staffUser: string,
  acceptedSerial: string | null,
): Promise<{ role: StaffRole | null; voided: "staff-removed" | "pin-reset" | "token-taken-away" | null }> {
  await lockUserRow(trx, staffUser);
  const role = await staffRole(trx, staffUser);
  const user = await trx.selectFrom("users").select("pin_verifier").where("name", "=", staffUser).executeTakeFirst();
  let heldTokens = trx.selectFrom("tokens").select("serial").where("user_name", "=", staffUser).where("disabled_at", "is", null);
  if (acceptedSerial !== null) heldTokens = heldTokens.where("serial", "=", acceptedSerial);
  const held = await heldTokens.executeTakeFirst();
  const voided = role === null ? "staff-removed" : !user || user.pin_verifier === null ? "pin-reset" : held === undefined ? "token-taken-away" : null;
  return { role, voided };
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

/**
 * A fresh passcode of the session's staff member (accepted on `acceptedSerial`) opens sensitive actions
 * for the step-up time, if it still stands: the session still open and the passcode not voided meanwhile
 * (`signInStanding`; an attacker review reset a colleague's PIN through a step-up whose token was
 * disabled as stolen between the passcode and the action). False: nothing was recorded, and the waiting
 * action must not run.
 */
export async function recordStepUp(ctx: ValidatorContext, id: string, staffUser: string, acceptedSerial: string | null, source: string): Promise<boolean> {
  const now = ctx.now();
  return ctx.database.transaction(async (trx) => {
    const { role, voided } = await signInStanding(trx, staffUser, acceptedSerial);
    if (role === null || voided !== null) {
      await appendAudit(trx, staffActor(staffUser, role ?? "none", source), now, { event: "console.step-up", result: "refused", user: staffUser, detail: { reason: voided ?? "staff-removed" } });
      return false;
    }
    const stepped = await trx.updateTable("console_sessions").set({ stepped_up_at: now }).where("id_hash", "=", hashId(id)).where("staff_user", "=", staffUser).executeTakeFirst();
    return stepped.numUpdatedRows > 0n;
  });
}
