import { sql, type Kysely, type Migration, type MigrationProvider } from "kysely";
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
    "0002-console-staff-and-sessions": {
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
  };
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

export function migrationProvider(dialect: Dialect): MigrationProvider {
  return { getMigrations: async () => migrations(dialect) };
}
