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

/**
 * How an attempt names its user in the audit log: by the identifier when it names someone, otherwise by
 * its keyed fingerprint only (people type their PIN, or PIN + code, into the identifier field, and support
 * reads the log). The fingerprint is computed either way, so a known and an unknown user cost the same.
 */
export function attemptedUser(ctx: ValidatorContext, user: string, known: boolean): { user: string | null; detail: { identifier?: string } } {
  const identifier = ctx.unknownIdentifier(user);
  return known ? { user, detail: {} } : { user: null, detail: { identifier } };
}
