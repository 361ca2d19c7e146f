import type { Kysely } from "kysely";
import { normaliseUserId, userId } from "../../common/identifiers.js";
import type { ValidatorContext } from "../context.js";
import { appendAudit, type Actor } from "../storage/audit-log.js";
import type { Schema } from "../storage/schema.js";
import { attemptedUser } from "./audit.js";

/**
 * Audits a RADIUS request refused before any decision (an unsupported method, an unknown address), naming
 * its User-Name as a validation would (attemptedUser).
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
    const named = user === null ? { user: null, detail: {} } : attemptedUser(ctx, normaliseUserId(user), await namesSomeone(trx, user));
    await appendAudit(trx, actor, ctx.now(), { event, result: "reject", user: named.user, detail: { reason, ...facts, ...named.detail } });
  });
}

/** Looked up only when it follows the identifier rule (a NUL, say, is no name PostgreSQL could compare). */
async function namesSomeone(trx: Kysely<Schema>, user: string): Promise<boolean> {
  const valid = userId.safeParse(user);
  return valid.success && (await trx.selectFrom("users").select("name").where("name", "=", valid.data).executeTakeFirst()) !== undefined;
}
