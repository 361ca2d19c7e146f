import { sql } from "kysely";
import type { ValidatorContext } from "../context.js";

/** LIKE treats % and _ as wildcards; identifiers may contain _, so they are matched literally. */
function prefixPattern(prefix: string): string {
  return prefix.toLowerCase().replace(/[\\%_]/g, (character) => `\\${character}`) + "%";
}

export interface DirectoryMatches {
  users: string[];
  tokens: { serial: string; user: string | null; status: "active" | "disabled" }[];
}

/** Users whose identifier starts with `text` and tokens whose serial does, case-insensitively. */
export async function searchDirectory(ctx: ValidatorContext, text: string, limit = 25): Promise<DirectoryMatches> {
  const db = ctx.database.db;
  const pattern = prefixPattern(text);
  const users = await db
    .selectFrom("users")
    .select("name")
    .where(sql<boolean>`lower(name) like ${pattern} escape '\\'`)
    .orderBy("name")
    .limit(limit)
    .execute();
  const tokens = await db
    .selectFrom("tokens")
    .select(["serial", "user_name", "disabled_at"])
    .where(sql<boolean>`lower(serial) like ${pattern} escape '\\'`)
    .orderBy("serial")
    .limit(limit)
    .execute();
  return {
    users: users.map((row) => row.name),
    tokens: tokens.map((row) => ({ serial: row.serial, user: row.user_name, status: row.disabled_at === null ? "active" : "disabled" })),
  };
}

export interface Dashboard {
  lockedUsers: string[];
  activeEmergencies: { user: string; expiresAt: string; issuedBy: string }[];
  tokensByState: { "active-assigned": number; "active-unassigned": number; disabled: number };
}

/** What the help desk glances at: who is locked out, who holds an emergency password, token counts. */
export async function dashboard(ctx: ValidatorContext): Promise<Dashboard> {
  const db = ctx.database.db;
  const now = ctx.now();
  const { autoUnlockMinutes } = ctx.policy;
  // A lock lifted by itself (JETON_AUTO_UNLOCK_MINUTES) is no lock: the rules let the user in (lockout.ts).
  const locked = await db
    .selectFrom("users")
    .select("name")
    .where("failures", ">=", ctx.policy.lockAfter)
    .$if(autoUnlockMinutes !== null, (query) =>
      query.where((eb) => eb.or([eb("last_failure_at", "is", null), eb("last_failure_at", ">", now - autoUnlockMinutes! * 60_000)])),
    )
    .orderBy("name")
    .limit(100)
    .execute();
  const emergencies = await db
    .selectFrom("emergency_passwords")
    .select(["user_name", "expires_at", "issued_by"])
    .where("expires_at", ">=", now)
    .orderBy("expires_at")
    .limit(100)
    .execute();
  const counts = await db
    .selectFrom("tokens")
    .select([
      sql<number>`sum(case when disabled_at is null and user_name is not null then 1 else 0 end)`.as("assigned"),
      sql<number>`sum(case when disabled_at is null and user_name is null then 1 else 0 end)`.as("unassigned"),
      sql<number>`sum(case when disabled_at is not null then 1 else 0 end)`.as("disabled"),
    ])
    .executeTakeFirstOrThrow();
  return {
    lockedUsers: locked.map((row) => row.name),
    activeEmergencies: emergencies.map((row) => ({ user: row.user_name, expiresAt: new Date(row.expires_at).toISOString(), issuedBy: row.issued_by })),
    tokensByState: {
      "active-assigned": Number(counts.assigned ?? 0),
      "active-unassigned": Number(counts.unassigned ?? 0),
      disabled: Number(counts.disabled ?? 0),
    },
  };
}
