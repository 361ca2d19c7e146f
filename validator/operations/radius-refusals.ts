import { normaliseUserId } from "../../common/identifiers.js";
import type { ValidatorContext } from "../context.js";
import { appendAudit, type Actor } from "../storage/audit-log.js";

/**
 * Audits a RADIUS request refused before any decision (an unsupported method, an unknown address). A
 * User-Name that names nobody is recorded as its fingerprint only, as a validation would record it.
 */
export async function recordRadiusRefusal(ctx: ValidatorContext, actor: Actor, event: string, user: string | null, reason: string): Promise<void> {
  await ctx.database.transaction(async (trx) => {
    const known = user !== null && (await trx.selectFrom("users").select("name").where("name", "=", normaliseUserId(user)).executeTakeFirst()) !== undefined;
    const named = user === null ? { user: null } : known ? { user: normaliseUserId(user) } : { user: null, identifier: ctx.unknownIdentifier(normaliseUserId(user)) };
    await appendAudit(trx, actor, ctx.now(), { event, result: "reject", user: named.user, detail: { reason, ...("identifier" in named && { identifier: named.identifier }) } });
  });
}
