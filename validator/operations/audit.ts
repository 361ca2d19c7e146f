// The audit log as the front doors reach it: read it (auditors, support), and record what a local
// operator did outside any other operation (creating an API key). Operations record their own
// decisions inside their transactions.
import type { ValidatorContext } from "../context.js";
import { appendAudit, readAudit, type Actor, type AuditEntry, type AuditFilter, type AuditRecord } from "../storage/audit-log.js";

/** Newest first. */
export function readAuditLog(ctx: ValidatorContext, filter: AuditFilter): Promise<AuditRecord[]> {
  return readAudit(ctx.database.db, filter);
}

export function recordAudit(ctx: ValidatorContext, actor: Actor, at: number, entry: AuditEntry): Promise<void> {
  return appendAudit(ctx.database.db, actor, at, entry);
}
