import type { Kysely } from "kysely";
import type { Schema } from "./schema.js";

/** Who acted: an API key (id and role) or a local command, and from where. */
export interface Actor {
  id: string;
  role: string;
  source: string;
  /** Non-secret facts about where the request came from (e.g. a RADIUS NAS), added to every entry's detail. */
  context?: Record<string, unknown>;
}

export interface AuditEntry {
  event: string;
  result: string;
  user?: string | null;
  serial?: string | null;
  /** Non-secret facts only (reasons, offsets, expiry). Never a seed, PIN, passcode or password. */
  detail?: Record<string, unknown>;
}

export interface AuditRecord extends Required<Omit<AuditEntry, "detail">> {
  id: number;
  at: string;
  actor: string;
  role: string;
  source: string;
  detail: Record<string, unknown> | null;
}

/** The audit insert with better-sqlite3's named parameters, for auditRow's object (SQLite statements prepared directly). */
export const INSERT_AUDIT_ROW = `INSERT INTO audit_log (at, actor, role, source, event, result, user_name, serial, detail)
  VALUES (@at, @actor, @role, @source, @event, @result, @user_name, @serial, @detail)`;

export async function appendAudit(db: Kysely<Schema>, actor: Actor, at: number, entry: AuditEntry): Promise<void> {
  await db.insertInto("audit_log").values(auditRow(actor, at, entry)).execute();
}

/** The audit row of an entry: the actor's context (a RADIUS NAS) merged into the detail. */
export function auditRow(actor: Actor, at: number, entry: AuditEntry) {
  const detail = actor.context ? { ...actor.context, ...entry.detail } : entry.detail;
  return {
    at,
    actor: actor.id,
    role: actor.role,
    source: actor.source,
    event: entry.event,
    result: entry.result,
    user_name: entry.user ?? null,
    serial: entry.serial ?? null,
    detail: detail ? JSON.stringify(detail) : null,
  };
}

export interface AuditFilter {
  user?: string;
  serial?: string;
  since?: number;
  limit: number;
  actor?: string;
  event?: string;
  result?: string;
  /** Inclusive upper bound, Unix ms. */
  until?: number;
  /** Entries older than this id (the next page, newest first). */
  beforeId?: number;
}

/** Newest first. */
export async function readAudit(db: Kysely<Schema>, filter: AuditFilter): Promise<AuditRecord[]> {
  let query = db.selectFrom("audit_log").selectAll();
  if (filter.user !== undefined) query = query.where("user_name", "=", filter.user);
  if (filter.serial !== undefined) query = query.where("serial", "=", filter.serial);
  if (filter.since !== undefined) query = query.where("at", ">=", filter.since);
  if (filter.actor !== undefined) query = query.where("actor", "=", filter.actor);
  if (filter.event !== undefined) query = query.where("event", "=", filter.event);
  if (filter.result !== undefined) query = query.where("result", "=", filter.result);
  if (filter.until !== undefined) query = query.where("at", "<=", filter.until);
  if (filter.beforeId !== undefined) query = query.where("id", "<", filter.beforeId);
  const rows = await query.orderBy("id", "desc").limit(filter.limit).execute();
  return rows.map((row) => ({
    id: row.id,
    at: new Date(row.at).toISOString(),
    actor: row.actor,
    role: row.role,
    source: row.source,
    event: row.event,
    result: row.result,
    user: row.user_name,
    serial: row.serial,
    detail: row.detail === null ? null : (JSON.parse(row.detail) as Record<string, unknown>),
  }));
}
