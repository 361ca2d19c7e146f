import { randomText } from "../secrets/random-text.js";
import { normaliseUserId } from "../../common/identifiers.js";
import type { ValidatorContext } from "../context.js";
import { endOfLocalDay } from "../policy/emergency.js";
import { appendAudit, type Actor } from "../storage/audit-log.js";
import { OperationError } from "./operation-error.js";
import { openingRefusal, refusableTransaction } from "./staff.js";

/** Lower-case letters and digits without the ones confused on the phone (0/o, 1/l/i). */
const ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz";

export interface IssuedEmergencyPassword {
  password: string;
  expiresAt: string;
}

/**
 * A password used with the PIN in place of the code until 23:59 in the configured zone. Refused for a
 * user without a PIN (never set, or reset): it would be a way in that needs nothing but support.
 */
export async function issueEmergencyPassword(ctx: ValidatorContext, actor: Actor, givenUser: string): Promise<IssuedEmergencyPassword> {
  const user = normaliseUserId(givenUser);
  const now = ctx.now();
  const password = randomText(ALPHABET, ctx.policy.emergencyPasswordLength);
  const expiresAt = endOfLocalDay(now, ctx.policy.timeZone);
  const verifier = ctx.verifiers.emergencyVerifier(user, password);
  await refusableTransaction(ctx, async (trx) => {
    // The user's row is locked first, so the PIN read below is the one this password goes with (on
    // PostgreSQL a PIN reset committed meanwhile would otherwise leave a password for a user without a PIN).
    const refused = await openingRefusal(trx, actor, now, "emergency-issue", { event: "emergency.issue", user });
    if (refused) return refused;
    const known = await trx.selectFrom("users").select("pin_verifier").where("name", "=", user).executeTakeFirst();
    if (!known) throw new OperationError("not-found", `no user ${user}`);
    if (known.pin_verifier === null) {
      throw new OperationError(
        "conflict",
        `${user} has no PIN yet (never chosen, or reset): an emergency password works only with the PIN. ` +
          "The user chooses a PIN at the next login with a token code first.",
      );
    }
    await trx
      .insertInto("emergency_passwords")
      .values({ user_name: user, verifier, expires_at: expiresAt, issued_at: now, issued_by: actor.id })
      .onConflict((conflict) =>
        conflict.column("user_name").doUpdateSet({ verifier, expires_at: expiresAt, issued_at: now, issued_by: actor.id }),
      )
      .execute();
    await appendAudit(trx, actor, now, {
      event: "emergency.issue",
      result: "ok",
      user,
      detail: { expiresAt: new Date(expiresAt).toISOString() },
    });
  });
  return { password, expiresAt: new Date(expiresAt).toISOString() };
}

export async function revokeEmergencyPassword(ctx: ValidatorContext, actor: Actor, givenUser: string): Promise<void> {
  const user = normaliseUserId(givenUser);
  const now = ctx.now();
  await ctx.database.transaction(async (trx) => {
    const known = await trx.selectFrom("users").select("name").where("name", "=", user).executeTakeFirst();
    if (!known) throw new OperationError("not-found", `no user ${user}`);
    const result = await trx.deleteFrom("emergency_passwords").where("user_name", "=", user).executeTakeFirst();
    await appendAudit(trx, actor, now, {
      event: "emergency.revoke",
      result: result.numDeletedRows > 0n ? "ok" : "none-active",
      user,
    });
  });
}
