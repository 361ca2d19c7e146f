import type BetterSqlite3 from "better-sqlite3";
import { roleRank } from "../policy/staff-accounts.js";

/** What `settleRestoredDatabase` did to a restored copy, for the operator and the audit log. */
export interface RestoreSettlement {
  /** Tokens whose codes up to the restore (and its direct window) are now spent (their last step moved up). */
  tokensAdvanced: number;
  /** Console sessions, open challenges and RADIUS States ended: nothing in flight survives a restore. */
  ended: { consoleSessions: number; challenges: number; radiusStates: number };
  /** What the replaced database had closed since the backup and the copy now closes too; null: not read. */
  carriedForward: {
    revokedApiKeys: number;
    disabledTokens: number;
    unassignedTokens: number;
    /** Tokens whose last accepted step there is above the copy's (a code accepted ahead of the clock). */
    higherSteps: number;
    /** Tokens whose clock was corrected since: the signed counter, the clock and the learned offset. */
    clockCorrections: number;
    removedStaff: number;
    staffRolesLowered: number;
    revokedEmergencyPasswords: number;
    pinVerifiers: number;
    failureCounts: number;
    removedRadiusClients: number;
  } | null;
  /** Why the replaced database could not be read (then only the clock-based steps above were applied). */
  replacedUnreadable?: string;
}

/**
 * What a restored backup must not bring back. A backup holds the security state of its day; restoring it
 * would otherwise accept again every code used since, revive API keys revoked since, tokens disabled as
 * stolen, removed staff and NAS clients, emergency passwords revoked, PINs reset because they leaked.
 * - Every code a token's holder could have typed by `now` is spent: its last step is raised to the step it
 *   shows now (by its learned offset) plus `directWindow`, so nobody can replay a code seen or used before
 *   the restore; users wait a minute or two for their token's next codes.
 * - Console sessions, challenges and RADIUS States end.
 * - From the database being replaced (`replaced`, when it can still be read and is the backup's own
 *   successor), the copy takes what was closed or changed since: revocations, disables, unassignments,
 *   staff removals and demotions, PIN verifiers (a reset or a new PIN), failure counts that grew, RADIUS
 *   clients removed or replaced, clock corrections and a higher last step. What was opened since (new
 *   tokens, keys, staff, promotions) is not carried: the help desk redoes it.
 * Runs on the migrated copy before it is put in place, in one transaction.
 */
export function settleRestoredDatabase(connection: BetterSqlite3.Database, options: { now: number; directWindow: number; replaced: string | null }): RestoreSettlement {
  const { now, directWindow, replaced } = options;
  const nowSeconds = Math.floor(now / 1000);
  const run = (sql: string, ...parameters: unknown[]) => connection.prepare(sql).run(...parameters).changes;
  const get = (sql: string, ...parameters: unknown[]) => connection.prepare(sql).get(...parameters) as Record<string, unknown> | undefined;
  let carriedForward: RestoreSettlement["carriedForward"] = null;
  let replacedUnreadable: string | undefined;
  if (replaced !== null) {
    try {
      connection.prepare("ATTACH DATABASE ? AS replaced").run(replaced);
      try {
        carriedForward = connection.transaction(() => {
          refuseUnrelated(get);
          return carryForward(run);
        })();
      } finally {
        connection.prepare("DETACH DATABASE replaced").run();
      }
    } catch (error) {
      // Unreadable (often why a backup is restored) or of another schema: nothing carried, all rolled back.
      replacedUnreadable = (error as Error).message;
    }
  }
  return connection.transaction(() => {
    // Integer steps (a bound number is a REAL to SQLite); a token slow by its offset still spends up to now.
    const spent = "(CAST(? AS INTEGER) - t0) / period + max(offset_steps, 0) + ?";
    const tokensAdvanced = run(`UPDATE tokens SET last_step = ${spent} WHERE coalesce(last_step, -1) < ${spent}`, nowSeconds, directWindow, nowSeconds, directWindow);
    const ended = { consoleSessions: run("DELETE FROM console_sessions"), challenges: run("DELETE FROM challenges"), radiusStates: run("DELETE FROM radius_states") };
    return { tokensAdvanced, ended, carriedForward, ...(replacedUnreadable !== undefined && { replacedUnreadable }) };
  })();
}

/**
 * Carries nothing from a database that is not the backup's own successor: one at another migration (an
 * upgrade not yet started), or whose audit log does not hold the backup's last entry (a database made
 * afresh, another installation's): there, "absent" would not mean "removed since".
 */
function refuseUnrelated(get: (sql: string, ...parameters: unknown[]) => Record<string, unknown> | undefined): void {
  const migration = (schema: string) => get(`SELECT max(name) AS name FROM ${schema}.kysely_migration`)?.name;
  if (migration("main") !== migration("replaced")) {
    throw new Error(`the replaced database is at migration ${String(migration("replaced"))}, this version at ${String(migration("main"))}: start it once with this version first`);
  }
  const last = get("SELECT id, at, event FROM main.audit_log ORDER BY id DESC LIMIT 1");
  if (last && !get("SELECT 1 FROM replaced.audit_log WHERE id = ? AND at = ? AND event = ?", last.id, last.at, last.event)) {
    throw new Error(`the replaced database's audit log does not hold the backup's last entry (${String(last.id)}): it is not that backup's successor`);
  }
}

/** A role's rank in SQL (policy/staff-accounts.ts roleRank; the names are fixed identifiers); an unknown one ranks above all. */
const staffRank = (column: string) => `CASE ${column} ${Object.entries(roleRank).map(([role, rank]) => `WHEN '${role}' THEN ${rank}`).join(" ")} ELSE 99 END`;

function carryForward(run: (sql: string, ...parameters: unknown[]) => number): NonNullable<RestoreSettlement["carriedForward"]> {
  return {
    revokedApiKeys: run(
      "UPDATE api_keys SET revoked_at = r.revoked_at FROM replaced.api_keys r WHERE r.id = api_keys.id AND r.revoked_at IS NOT NULL AND api_keys.revoked_at IS NULL",
    ),
    disabledTokens: run(
      `UPDATE tokens SET disabled_at = r.disabled_at, disabled_reason = r.disabled_reason FROM replaced.tokens r
        WHERE r.serial = tokens.serial AND r.disabled_at IS NOT NULL AND tokens.disabled_at IS NULL`,
    ),
    unassignedTokens: run(
      `UPDATE tokens SET user_name = NULL FROM replaced.tokens r
        WHERE r.serial = tokens.serial AND tokens.user_name IS NOT NULL AND r.user_name IS NOT tokens.user_name`,
    ),
    higherSteps: run("UPDATE tokens SET last_step = r.last_step FROM replaced.tokens r WHERE r.serial = tokens.serial AND r.last_step > coalesce(tokens.last_step, -1)"),
    clockCorrections: run(
      `UPDATE tokens SET set_time_counter = r.set_time_counter, offset_steps = r.offset_steps, clock_set_at = r.clock_set_at,
              clock_set_to = r.clock_set_to, clock_trim_ppb = r.clock_trim_ppb
         FROM replaced.tokens r WHERE r.serial = tokens.serial AND r.set_time_counter > tokens.set_time_counter`,
    ),
    removedStaff: run("DELETE FROM staff WHERE NOT EXISTS (SELECT 1 FROM replaced.staff r WHERE r.user_name = staff.user_name)"),
    // Demotions only: a role given since the backup is not carried.
    staffRolesLowered: run(`UPDATE staff SET role = r.role FROM replaced.staff r WHERE r.user_name = staff.user_name AND ${staffRank("r.role")} < ${staffRank("staff.role")}`),
    revokedEmergencyPasswords: run(
      `DELETE FROM emergency_passwords WHERE NOT EXISTS
        (SELECT 1 FROM replaced.emergency_passwords r WHERE r.user_name = emergency_passwords.user_name AND r.issued_at = emergency_passwords.issued_at)`,
    ),
    // A reset, or a PIN chosen since under the key this copy is bound to (one under a key of a later
    // rotation would leave the copy needing keys no configuration loads together).
    pinVerifiers: run(
      `UPDATE users SET pin_verifier = r.pin_verifier FROM replaced.users r
        WHERE r.name = users.name AND r.pin_verifier IS NOT users.pin_verifier
          AND (r.pin_verifier IS NULL OR r.pin_verifier LIKE 'key:' || (SELECT value FROM main.settings WHERE name = 'master_key_id') || ':%')`,
    ),
    failureCounts: run(
      "UPDATE users SET failures = r.failures, last_failure_at = r.last_failure_at FROM replaced.users r WHERE r.name = users.name AND r.failures > users.failures",
    ),
    // Removed, or removed and added again under the same name (a new secret or address): the copy's is old.
    removedRadiusClients: run(
      "DELETE FROM radius_clients WHERE NOT EXISTS (SELECT 1 FROM replaced.radius_clients r WHERE r.name = radius_clients.name AND r.created_at = radius_clients.created_at)",
    ),
  };
}
