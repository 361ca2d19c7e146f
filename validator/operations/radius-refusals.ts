import { normaliseUserId, userId } from "../../common/identifiers.js";
import type { ValidatorContext } from "../context.js";
import { appendAudit, type Actor } from "../storage/audit-log.js";

/**
 * Audits a RADIUS request refused before any decision (an unsupported method, an unknown address). A
 * User-Name that names nobody is recorded as its fingerprint only, as a validation would record it.
 */
export async function recordRadiusRefusal(
  ctx: ValidatorContext,
  actor: Actor,
  event: string,
  user: string | null,
  reason: string,
  facts: Record<string, unknown> = {},
): Promise<void> {
  await ctx.database.transaction(async (trx) => {
    // Looked up only when it follows the identifier rule (a NUL, say, is no name PostgreSQL could compare).
    const valid = user === null ? null : userId.safeParse(user);
    const known = valid?.success === true && (await trx.selectFrom("users").select("name").where("name", "=", valid.data).executeTakeFirst()) !== undefined;
    const named = user === null ? { user: null } : known ? { user: normaliseUserId(user) } : { user: null, identifier: ctx.unknownIdentifier(normaliseUserId(user)) };
    await appendAudit(trx, actor, ctx.now(), { event, result: "reject", user: named.user, detail: { reason, ...facts, ...("identifier" in named && { identifier: named.identifier }) } });
  });
}
