import type { ValidatorContext } from "../context.js";
import { appendAudit, type Actor } from "../storage/audit-log.js";

/** Audits a RADIUS request refused before any decision (an unsupported method, an unknown address). */
export async function recordRadiusRefusal(ctx: ValidatorContext, actor: Actor, event: string, user: string | null, reason: string): Promise<void> {
  await ctx.database.transaction((trx) => appendAudit(trx, actor, ctx.now(), { event, result: "reject", user, detail: { reason } }));
}
