// What a restored SQLite file may hold: exactly the tables, indexes, triggers and views this version's
// migrations make. A backup is a file whoever can write to the backup store can edit: a trigger of its
// own would run inside every later transaction (undoing a disable, say) and a dropped one would end the
// audit log's append-only guard. A backup's authentication (backup-authentication.ts) refuses any edit;
// this check still holds for one restored --unauthenticated.
import BetterSqlite3 from "better-sqlite3";
import { Kysely, Migrator, SqliteDialect } from "kysely";
import { migrationProvider } from "./migrations.js";
import type { Schema } from "./schema.js";

/** Kysely's own bookkeeping tables: their text is Kysely's, and may differ between its versions. */
const MIGRATOR_TABLES = new Set(["kysely_migration", "kysely_migration_lock"]);

type Objects = Map<string, string>;

/**
 * SQLite's own objects, which come and go with the data (AUTOINCREMENT's counters, ANALYZE's statistics,
 * the indexes behind UNIQUE and PRIMARY KEY): any other object is compared, whatever its name, since one
 * written into sqlite_master directly (PRAGMA writable_schema) may take a reserved sqlite_ name.
 */
function sqliteOwn(row: SchemaRow): boolean {
  if (row.type === "table") return row.name === "sqlite_sequence" || /^sqlite_stat[1-4]$/.test(row.name);
  return row.type === "index" && row.name.startsWith("sqlite_autoindex_") && row.sql === null;
}

interface SchemaRow {
  type: string;
  name: string;
  tbl_name: string;
  sql: string | null;
}

/** Each schema object by "<type> <name>", with what defines it (SQLite's own objects aside). */
function schemaObjects(connection: BetterSqlite3.Database): Objects {
  const rows = (connection.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master").all() as SchemaRow[]).filter((row) => !sqliteOwn(row));
  return new Map(rows.map((row) => [`${row.type} ${row.name}`, MIGRATOR_TABLES.has(row.name) ? row.type : `${row.tbl_name}\n${row.sql}`]));
}

let expected: Promise<Objects> | undefined;

/** The objects of a database made afresh by the migrations, in memory (built once per process). */
function expectedObjects(): Promise<Objects> {
  return (expected ??= (async () => {
    const connection = new BetterSqlite3(":memory:");
    const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: connection }) });
    try {
      const { error } = await new Migrator({ db, provider: migrationProvider("sqlite") }).migrateToLatest();
      if (error) throw error;
      return schemaObjects(connection);
    } finally {
      await db.destroy();
    }
  })());
}

/**
 * How a migrated database's schema differs from the migrations' own: one line per object that is
 * unexpected, missing or altered (empty when it is theirs exactly).
 */
export async function schemaDifferences(connection: BetterSqlite3.Database): Promise<string[]> {
  const wanted = await expectedObjects();
  const found = schemaObjects(connection);
  const differences: string[] = [];
  for (const [object, definition] of found) {
    if (!wanted.has(object)) differences.push(`${object} (not made by Jeton)`);
    else if (wanted.get(object) !== definition) differences.push(`${object} (altered)`);
  }
  for (const object of wanted.keys()) if (!found.has(object)) differences.push(`${object} (missing)`);
  return differences;
}
