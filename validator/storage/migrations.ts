import { sql, type Kysely, type Migration, type MigrationProvider } from "kysely";
import { normaliseUserId } from "../../common/identifiers.js";
import { keyedToEarlierSpelling } from "../secrets/verifiers.js";
import type { Dialect } from "./database.js";

/**
 * The one migration set for both dialects. Append new migrations; never edit a released one.
 * Only the auto-increment column and the append-only guard differ between SQLite and PostgreSQL.
 */
function migrations(dialect: Dialect): Record<string, Migration> {
  return {
    "0001-initial": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("settings")
          .addColumn("name", "text", (column) => column.primaryKey())
          .addColumn("value", "text", (column) => column.notNull())
          .execute();
        await db.schema
          .createTable("users")
          .addColumn("name", "text", (column) => column.primaryKey())
          .addColumn("pin_verifier", "text")
          .addColumn("failures", "integer", (column) => column.notNull().defaultTo(0))
          .addColumn("last_failure_at", "bigint")
          .addColumn("last_attempt_at", "bigint")
          .addColumn("created_at", "bigint", (column) => column.notNull())
          .execute();
        await db.schema
          .createTable("tokens")
          .addColumn("serial", "text", (column) => column.primaryKey())
          .addColumn("user_name", "text", (column) => column.references("users.name"))
          .addColumn("algorithm", "text", (column) => column.notNull())
          .addColumn("digits", "integer", (column) => column.notNull())
          .addColumn("period", "integer", (column) => column.notNull())
          .addColumn("t0", "bigint", (column) => column.notNull())
          .addColumn("sealed_secret", "text", (column) => column.notNull())
          .addColumn("key_id", "text", (column) => column.notNull())
          .addColumn("offset_steps", "integer", (column) => column.notNull().defaultTo(0))
          .addColumn("last_step", "bigint")
          .addColumn("disabled_reason", "text")
          .addColumn("disabled_at", "bigint")
          .addColumn("last_used_at", "bigint")
          .addColumn("created_at", "bigint", (column) => column.notNull())
          .execute();
        await db.schema.createIndex("tokens_user_name").on("tokens").column("user_name").execute();
        await db.schema
          .createTable("emergency_passwords")
          .addColumn("user_name", "text", (column) => column.primaryKey().references("users.name"))
          .addColumn("verifier", "text", (column) => column.notNull())
          .addColumn("expires_at", "bigint", (column) => column.notNull())
          .addColumn("issued_at", "bigint", (column) => column.notNull())
          .addColumn("issued_by", "text", (column) => column.notNull())
          .execute();
        await db.schema
          .createTable("challenges")
          .addColumn("id", "text", (column) => column.primaryKey())
          .addColumn("user_name", "text", (column) => column.notNull())
          .addColumn("kind", "text", (column) => column.notNull())
          .addColumn("serial", "text")
          .addColumn("step", "bigint")
          .addColumn("expires_at", "bigint", (column) => column.notNull())
          .execute();
        await db.schema.createIndex("challenges_user_name").on("challenges").column("user_name").execute();
        await db.schema
          .createTable("api_keys")
          .addColumn("id", "text", (column) => column.primaryKey())
          .addColumn("role", "text", (column) => column.notNull())
          .addColumn("secret_hash", "text", (column) => column.notNull())
          .addColumn("label", "text")
          .addColumn("created_at", "bigint", (column) => column.notNull())
          .addColumn("revoked_at", "bigint")
          .execute();
        await db.schema
          .createTable("audit_log")
          .addColumn("id", dialect === "postgres" ? "bigserial" : "integer", (column) =>
            dialect === "postgres" ? column.primaryKey() : column.primaryKey().autoIncrement(),
          )
          .addColumn("at", "bigint", (column) => column.notNull())
          .addColumn("actor", "text", (column) => column.notNull())
          .addColumn("role", "text", (column) => column.notNull())
          .addColumn("source", "text", (column) => column.notNull())
          .addColumn("event", "text", (column) => column.notNull())
          .addColumn("result", "text", (column) => column.notNull())
          .addColumn("user_name", "text")
          .addColumn("serial", "text")
          .addColumn("detail", "text")
          .execute();
        await db.schema.createIndex("audit_log_user_name").on("audit_log").columns(["user_name", "id"]).execute();
        await db.schema.createIndex("audit_log_serial").on("audit_log").columns(["serial", "id"]).execute();
        // No index on `at`: reads go newest first by id, which follows time, and every index costs each validation.
        await appendOnly(db, dialect);
      },
    },
    "0002-api-key-expiry-and-last-use": {
      up: atomically(dialect, async (db) => {
        // SQLite adds one column per ALTER TABLE.
        await db.schema.alterTable("api_keys").addColumn("expires_at", "bigint").execute();
        await db.schema.alterTable("api_keys").addColumn("last_used_at", "bigint").execute();
      }),
    },
    "0003-user-identifiers-normalised": { up: atomically(dialect, normaliseUserIdentifiers) },
    "0004-audit-log-no-truncate-no-replace": {
      async up(db: Kysely<unknown>) {
        await appendOnlyAgainstTruncateAndReplace(db, dialect);
      },
    },
    "0005-challenge-binding": {
      // Challenges are bound to the user's state (an epoch every state change bumps), stored under the
      // SHA-256 of their id only, and kept once answered so a retried answer is told apart from a guess.
      // Open challenges are dropped: their ids are stored in clear and they were bound to nothing.
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("users").addColumn("epoch", "bigint", (column) => column.notNull().defaultTo(0)).execute();
        await db.deleteFrom("challenges" as never).execute();
        await db.schema.alterTable("challenges").addColumn("epoch", "bigint", (column) => column.notNull().defaultTo(0)).execute();
        await db.schema.alterTable("challenges").addColumn("opened_at", "bigint", (column) => column.notNull().defaultTo(0)).execute();
        await db.schema.alterTable("challenges").addColumn("answered_at", "bigint").execute();
      },
    },
    // One seed under two serials would accept one passcode twice. The fingerprint is keyed with the master
    // key, which migrations do not have: rows that predate this are filled in at start-up
    // (operations/seed-fingerprints.ts); NULLs do not collide in a unique index on either dialect.
    "0006-token-seed-fingerprint": {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("tokens").addColumn("seed_fingerprint", "text").execute();
        await db.schema.createIndex("tokens_seed_fingerprint").on("tokens").column("seed_fingerprint").unique().execute();
      },
    },
    // The validator signs set-time counters only a little above the last one the token confirmed, so no
    // signed request can exhaust the token's u32 counter (operations/token-clock.ts).
    "0007-token-set-time-counter": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .alterTable("tokens")
          .addColumn("set_time_counter", "bigint", (column) => column.notNull().defaultTo(0))
          .execute();
      },
    },
    "0008-radius": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("radius_clients")
          .addColumn("name", "text", (column) => column.primaryKey())
          .addColumn("address", "text", (column) => column.notNull())
          .addColumn("sealed_secret", "text", (column) => column.notNull())
          .addColumn("key_id", "text", (column) => column.notNull())
          .addColumn("require_message_authenticator", "integer", (column) => column.notNull())
          .addColumn("language", "text", (column) => column.notNull())
          .addColumn("prompts", "text")
          .addColumn("created_at", "bigint", (column) => column.notNull())
          .execute();
        await db.schema
          .createTable("radius_states")
          .addColumn("state_hash", "text", (column) => column.primaryKey())
          .addColumn("client_name", "text", (column) => column.notNull())
          .addColumn("user_name", "text", (column) => column.notNull())
          .addColumn("expires_at", "bigint", (column) => column.notNull())
          .execute();
        await db.schema.createIndex("radius_states_expires_at").on("radius_states").column("expires_at").execute();
      },
    },
    "0009-console-staff-and-sessions": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("staff")
          .addColumn("user_name", "text", (column) => column.primaryKey().references("users.name"))
          .addColumn("role", "text", (column) => column.notNull())
          .addColumn("added_at", "bigint", (column) => column.notNull())
          .addColumn("added_by", "text", (column) => column.notNull())
          .execute();
        // Only a hash of the session id is stored: a database read does not hand out live sessions.
        await db.schema
          .createTable("console_sessions")
          .addColumn("id_hash", "text", (column) => column.primaryKey())
          .addColumn("staff_user", "text", (column) => column.notNull())
          .addColumn("csrf_token", "text", (column) => column.notNull())
          .addColumn("created_at", "bigint", (column) => column.notNull())
          .addColumn("last_seen_at", "bigint", (column) => column.notNull())
          .addColumn("stepped_up_at", "bigint")
          .execute();
        await db.schema.createIndex("console_sessions_staff_user").on("console_sessions").column("staff_user").execute();
      },
    },
    // Verifiers name the master key they are keyed with (secrets/verifiers.ts), so a rotation can count
    // those still keyed with the previous key. Until now every one was keyed with the key the database
    // is bound to; a database that was never opened has no verifiers (and no bound key) yet.
    "0010-verifier-key-ids": {
      up: atomically(dialect, async (db) => {
        const bound = sql`(SELECT 'key:' || value || ':' FROM settings WHERE name = 'master_key_id')`;
        await sql`UPDATE users SET pin_verifier = ${bound} || pin_verifier WHERE pin_verifier NOT LIKE 'key:%' AND EXISTS ${bound}`.execute(db);
        await sql`UPDATE emergency_passwords SET verifier = ${bound} || verifier WHERE verifier NOT LIKE 'key:%' AND EXISTS ${bound}`.execute(db);
      }),
    },
    // When each token's clock was last set, to what, and the trim it applies (issue 12): `jeton resync`
    // computes the drift rate from them. Tokens registered earlier have no known set time (null).
    "0011-token-clock-set-and-trim": {
      up: atomically(dialect, async (db) => {
        await db.schema.alterTable("tokens").addColumn("clock_set_at", "bigint").execute();
        await db.schema.alterTable("tokens").addColumn("clock_set_to", "bigint").execute();
        await db.schema.alterTable("tokens").addColumn("clock_trim_ppb", "integer", (column) => column.notNull().defaultTo(0)).execute();
      }),
    },
    // A RADIUS State no longer carries the challenge id, the row does (sealed under a key derived from the
    // State). States live minutes: those outstanding at the upgrade are dropped (their NAS gets a reject).
    "0012-radius-state-sealed-challenge": {
      up: atomically(dialect, async (db) => {
        await sql`DELETE FROM radius_states`.execute(db);
        await db.schema.alterTable("radius_states").addColumn("sealed_challenge", "text", (column) => column.notNull().defaultTo("")).execute();
      }),
    },
  };
}

/**
 * Kysely runs PostgreSQL migrations in a transaction but SQLite ones on a bare connection: give SQLite
 * one too, so a migration interrupted half-way leaves nothing behind.
 */
function atomically(dialect: Dialect, up: (db: Kysely<unknown>) => Promise<void>): (db: Kysely<unknown>) => Promise<void> {
  return dialect === "sqlite" ? (db) => db.transaction().execute(up) : up;
}

/**
 * User identifiers are compared case-insensitively from now on: each user is renamed to the normalised
 * spelling, with its tokens, emergency password and open challenges. Two users that would become one are
 * never merged: the migration refuses to run, naming them, and changes nothing. Verifiers cannot be
 * recomputed without the PIN, so a renamed user's are marked with the spelling they were keyed to.
 * Audit rows keep the spelling they were written with; one `user.rename` row per renamed user links them.
 */
async function normaliseUserIdentifiers(db: Kysely<unknown>): Promise<void> {
  const { rows } = await sql<{ name: string; pin_verifier: string | null }>`SELECT name, pin_verifier FROM users`.execute(db);
  const spellings = new Map<string, string[]>();
  for (const { name } of rows) {
    const normalised = normaliseUserId(name);
    spellings.set(normalised, [...(spellings.get(normalised) ?? []), name]);
  }
  const merging = [...spellings.keys()]
    .sort()
    .map((normalised) => spellings.get(normalised)!.sort())
    .filter((names) => names.length > 1);
  if (merging.length > 0) {
    throw new Error(
      "user identifiers are now compared case-insensitively, and these users would become one: " +
        merging.map((names) => names.join(" = ")).join("; ") +
        ". Nothing was changed. Keep one user of each group (move the others' tokens to it and delete them: see README, " +
        '"Identifiers"), then start again.',
    );
  }
  const at = Date.now();
  const renamed = rows.filter(({ name }) => normaliseUserId(name) !== name);
  if (renamed.length === 0) return;
  // A copy of each renamed row, whatever columns the users table has by now, inserted under the new name
  // before the old row goes: foreign keys to users.name are never left dangling, on both dialects.
  await sql`CREATE TEMPORARY TABLE renamed_users AS SELECT * FROM users WHERE 1 = 0`.execute(db);
  for (const { name, pin_verifier } of renamed) {
    const normalised = normaliseUserId(name);
    const pinVerifier = pin_verifier === null ? null : keyedToEarlierSpelling(name, pin_verifier);
    await sql`INSERT INTO renamed_users SELECT * FROM users WHERE name = ${name}`.execute(db);
    await sql`UPDATE renamed_users SET name = ${normalised}, pin_verifier = ${pinVerifier} WHERE name = ${name}`.execute(db);
  }
  await sql`INSERT INTO users SELECT * FROM renamed_users`.execute(db);
  await sql`DROP TABLE renamed_users`.execute(db);
  for (const { name } of renamed) {
    const normalised = normaliseUserId(name);
    await sql`UPDATE tokens SET user_name = ${normalised} WHERE user_name = ${name}`.execute(db);
    const { rows: emergency } = await sql<{ verifier: string }>`SELECT verifier FROM emergency_passwords WHERE user_name = ${name}`.execute(db);
    for (const { verifier } of emergency) {
      await sql`UPDATE emergency_passwords SET user_name = ${normalised}, verifier = ${keyedToEarlierSpelling(name, verifier)} WHERE user_name = ${name}`.execute(db);
    }
    await sql`UPDATE challenges SET user_name = ${normalised} WHERE user_name = ${name}`.execute(db);
    await sql`DELETE FROM users WHERE name = ${name}`.execute(db);
    await sql`
      INSERT INTO audit_log (at, actor, role, source, event, result, user_name, detail)
      VALUES (${at}, 'migration:user-identifiers-normalised', 'operator', 'migration', 'user.rename', 'ok', ${normalised},
              ${JSON.stringify({ previous: name, reason: "identifiers are compared case-insensitively" })})
    `.execute(db);
  }
}

/** The audit log refuses UPDATE and DELETE at the database, whatever the application does. */
async function appendOnly(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  if (dialect === "sqlite") {
    for (const operation of ["UPDATE", "DELETE"]) {
      await sql
        .raw(
          `CREATE TRIGGER audit_log_no_${operation.toLowerCase()} BEFORE ${operation} ON audit_log ` +
            `BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`,
        )
        .execute(db);
    }
    return;
  }
  await sql
    .raw(
      `CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS ` +
        `$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$`,
    )
    .execute(db);
  await sql
    .raw(
      `CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log ` +
        `FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`,
    )
    .execute(db);
}

/**
 * Closes what 0001 left open. PostgreSQL: TRUNCATE fires no DELETE trigger, so it gets its own.
 * SQLite: INSERT OR REPLACE deletes the conflicting row without firing DELETE triggers (unless a
 * connection turns recursive_triggers on), so an insert that reuses an existing id is refused; a normal
 * insert asks its id (NEW.id is -1 before SQLite assigns it) with one primary-key lookup.
 */
async function appendOnlyAgainstTruncateAndReplace(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  if (dialect === "sqlite") {
    await sql
      .raw(
        "CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log " +
          "WHEN EXISTS (SELECT 1 FROM audit_log WHERE id = NEW.id) " +
          "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
      )
      .execute(db);
    return;
  }
  await sql
    .raw("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()")
    .execute(db);
}

export function migrationProvider(dialect: Dialect): MigrationProvider {
  return { getMigrations: async () => migrations(dialect) };
}
