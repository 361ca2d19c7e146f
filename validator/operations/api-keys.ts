import { createHash, randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import type { ValidatorContext } from "../context.js";
import { constantTimeEqual } from "../secrets/constant-time.js";
import { appendAudit, type Actor } from "../storage/audit-log.js";
import type { Database } from "../storage/database.js";
import type { Schema } from "../storage/schema.js";
import { OperationError } from "./operation-error.js";

export const roles = ["portal", "support", "helpdesk", "auditor", "metrics"] as const;
export type Role = (typeof roles)[number];

/** helpdesk ⊇ support: the help desk may do everything support does. Console staff roles follow the same grants. */
const grants: Record<Role, Role[]> = {
  portal: ["portal"],
  support: ["support"],
  helpdesk: ["helpdesk", "support"],
  auditor: ["auditor"],
  metrics: ["metrics"],
};

/** Whether `role` may do what any of `needed` may. */
export function roleGrants(role: Role, needed: readonly Role[]): boolean {
  return needed.some((wanted) => grants[role].includes(wanted));
}

export interface ApiKeyIdentity {
  id: string;
  role: Role;
  /** Unix ms, or null for a key that does not expire. */
  expiresAt: number | null;
}

/** What `jeton keys list` shows of a key: never the key nor its hash. */
export interface ApiKeyView {
  id: string;
  role: Role;
  label: string | null;
  status: "active" | "expired" | "revoked";
  createdAt: string;
  expiresAt: string | null;
  /** To the minute: uses are recorded at most once a minute per key and validator instance. */
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface ApiKeyRequest {
  role: Role;
  label?: string | null;
  /** Unix ms; absent or null: the key does not expire. */
  expiresAt?: number | null;
}

const MAX_LABEL_LENGTH = 200;

/** Keys are random 256-bit secrets, so a plain SHA-256 is a sufficient verifier. */
function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("base64");
}

/** Creates a key and returns it whole; only its hash is stored, so it can never be shown again. */
export async function createApiKey(
  db: Kysely<Schema>,
  role: Role,
  label: string | null,
  now: number,
  expiresAt: number | null = null,
): Promise<{ id: string; key: string }> {
  const id = randomBytes(6).toString("hex");
  const secret = randomBytes(32).toString("base64url");
  await db
    .insertInto("api_keys")
    .values({ id, role, secret_hash: hashSecret(secret), label, created_at: now, revoked_at: null, expires_at: expiresAt, last_used_at: null })
    .execute();
  return { id, key: `jeton_${id}_${secret}` };
}

/** Creates a key for an operator and records who did (the key itself is returned, never recorded). */
export async function issueApiKey(ctx: ValidatorContext, actor: Actor, request: ApiKeyRequest): Promise<{ id: string; key: string; view: ApiKeyView }> {
  const now = ctx.now();
  const label = request.label ?? null;
  const expiresAt = request.expiresAt ?? null;
  if (label !== null && (label.length > MAX_LABEL_LENGTH || /\p{Cc}/u.test(label))) {
    throw new OperationError("invalid", `a label is at most ${MAX_LABEL_LENGTH} characters, without control characters`);
  }
  if (expiresAt !== null && expiresAt <= now) throw new OperationError("invalid", `the expiry ${new Date(expiresAt).toISOString()} is not in the future`);
  const created = await ctx.database.transaction(async (trx) => {
    const created = await createApiKey(trx, request.role, label, now, expiresAt);
    await appendAudit(trx, actor, now, {
      event: "api-key.create",
      result: "ok",
      detail: { keyId: created.id, role: request.role, label, expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString() },
    });
    return created;
  });
  return { ...created, view: await getApiKey(ctx, created.id) };
}

/** Every key, active or not, oldest first. */
export async function listApiKeys(ctx: ValidatorContext): Promise<ApiKeyView[]> {
  const rows = await ctx.database.db.selectFrom("api_keys").select(viewColumns).orderBy("created_at").orderBy("id").execute();
  const now = ctx.now();
  return rows.map((row) => present(row, now));
}

/** A revoked key is refused by every validator instance within KEY_RECHECK_MILLIS (http/authentication.ts). */
export async function revokeApiKey(ctx: ValidatorContext, actor: Actor, id: string): Promise<ApiKeyView> {
  const now = ctx.now();
  await ctx.database.transaction(async (trx) => {
    const key = await trx.selectFrom("api_keys").select(["role", "revoked_at"]).where("id", "=", id).executeTakeFirst();
    if (!key) throw new OperationError("not-found", `no API key ${id}`);
    if (key.revoked_at !== null) throw new OperationError("conflict", `API key ${id} was already revoked at ${new Date(key.revoked_at).toISOString()}`);
    await trx.updateTable("api_keys").set({ revoked_at: now }).where("id", "=", id).execute();
    await appendAudit(trx, actor, now, { event: "api-key.revoke", result: "ok", detail: { keyId: id, role: key.role } });
  });
  return getApiKey(ctx, id);
}

async function getApiKey(ctx: ValidatorContext, id: string): Promise<ApiKeyView> {
  const row = await ctx.database.db.selectFrom("api_keys").select(viewColumns).where("id", "=", id).executeTakeFirstOrThrow();
  return present(row, ctx.now());
}

const viewColumns = ["id", "role", "label", "created_at", "expires_at", "last_used_at", "revoked_at"] as const;

function present(
  row: { id: string; role: string; label: string | null; created_at: number; expires_at: number | null; last_used_at: number | null; revoked_at: number | null },
  now: number,
): ApiKeyView {
  const time = (millis: number | null) => (millis === null ? null : new Date(millis).toISOString());
  return {
    id: row.id,
    role: row.role as Role,
    label: row.label,
    status: row.revoked_at !== null ? "revoked" : row.expires_at !== null && row.expires_at <= now ? "expired" : "active",
    createdAt: time(row.created_at)!,
    expiresAt: time(row.expires_at),
    lastUsedAt: time(row.last_used_at),
    revokedAt: time(row.revoked_at),
  };
}

const KEY_FORMAT = /^jeton_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

/** The key's identity if it is well-formed, known, not revoked and not expired at `now`; otherwise null. */
export async function identifyApiKey(db: Kysely<Schema>, key: string, now: number): Promise<ApiKeyIdentity | null> {
  const parts = KEY_FORMAT.exec(key);
  if (!parts) return null;
  const row = await db
    .selectFrom("api_keys")
    .select(["role", "secret_hash", "expires_at"])
    .where("id", "=", parts[1]!)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  if (!row || !constantTimeEqual(row.secret_hash, hashSecret(parts[2]!))) return null;
  if (row.expires_at !== null && row.expires_at <= now) return null;
  return { id: parts[1]!, role: row.role as Role, expiresAt: row.expires_at };
}

/** Records that a key was used at `now` (never moving "last used" back). */
export async function recordApiKeyUse(database: Database, id: string, now: number): Promise<void> {
  await database.transaction((trx) =>
    trx
      .updateTable("api_keys")
      .set({ last_used_at: now })
      .where("id", "=", id)
      .where((where) => where.or([where("last_used_at", "is", null), where("last_used_at", "<", now)]))
      .execute(),
  );
}

const DURATION = /^([1-9][0-9]{0,4})([hdw])$/;
const DURATION_MILLIS = { h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;
/** A date and time with its zone: without one, "18:00" would mean a different moment on each server. */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Date.parse takes 2027-02-30 for 2 March: a day must exist in its month. */
function dateTimeMillis(text: string): number {
  const parts = DATE_TIME.exec(text);
  if (!parts) return Number.NaN;
  const [year, month, day] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (new Date(Date.UTC(year, month - 1, day)).getUTCDate() !== day) return Number.NaN;
  return Date.parse(text);
}

/**
 * When a key given `--expires` stops working: a duration from now (`12h`, `90d`, `2w`) or an ISO 8601
 * date and time with its zone (`2027-06-30T18:00:00Z`, `2027-06-30T18:00+02:00`). Throws a message
 * saying what is accepted.
 */
export function parseKeyExpiry(text: string, now: number): number {
  const duration = DURATION.exec(text);
  const at = duration ? now + Number(duration[1]) * DURATION_MILLIS[duration[2] as keyof typeof DURATION_MILLIS] : dateTimeMillis(text);
  if (Number.isNaN(at)) {
    throw new Error(`"${text}" is neither a duration (12h, 90d, 2w) nor a date and time with its zone (2027-06-30T18:00:00Z, 2027-06-30T18:00+02:00)`);
  }
  if (at <= now) throw new Error(`${new Date(at).toISOString()} is not in the future`);
  return at;
}
