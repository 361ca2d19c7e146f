import { createHash, randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import { constantTimeEqual } from "../secrets/constant-time.js";
import type { Schema } from "../storage/schema.js";

export const roles = ["portal", "support", "helpdesk", "auditor"] as const;
export type Role = (typeof roles)[number];

/** helpdesk ⊇ support: the help desk may do everything support does. Console staff roles follow the same grants. */
const grants: Record<Role, Role[]> = {
  portal: ["portal"],
  support: ["support"],
  helpdesk: ["helpdesk", "support"],
  auditor: ["auditor"],
};

/** Whether `role` may do what any of `needed` may. */
export function roleGrants(role: Role, needed: readonly Role[]): boolean {
  return needed.some((wanted) => grants[role].includes(wanted));
}

export interface ApiKeyIdentity {
  id: string;
  role: Role;
}

/** Keys are random 256-bit secrets, so a plain SHA-256 is a sufficient verifier. */
function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("base64");
}

/** Creates a key and returns it whole; only its hash is stored, so it can never be shown again. */
export async function createApiKey(db: Kysely<Schema>, role: Role, label: string | null, now: number): Promise<{ id: string; key: string }> {
  const id = randomBytes(6).toString("hex");
  const secret = randomBytes(32).toString("base64url");
  await db.insertInto("api_keys").values({ id, role, secret_hash: hashSecret(secret), label, created_at: now, revoked_at: null }).execute();
  return { id, key: `jeton_${id}_${secret}` };
}

const KEY_FORMAT = /^jeton_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export async function identifyApiKey(db: Kysely<Schema>, key: string): Promise<ApiKeyIdentity | null> {
  const parts = KEY_FORMAT.exec(key);
  if (!parts) return null;
  const row = await db
    .selectFrom("api_keys")
    .select(["role", "secret_hash"])
    .where("id", "=", parts[1]!)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  if (!row || !constantTimeEqual(row.secret_hash, hashSecret(parts[2]!))) return null;
  return { id: parts[1]!, role: row.role as Role };
}
