import BetterSqlite3 from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../validator/storage/database.js";
import { testDatabase } from "../support/test-validator.js";

describe("group commit on SQLite", () => {
  let database: Database;
  let file: string;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const location = await testDatabase("sqlite");
    drop = location.drop;
    file = (location.location as { file: string }).file;
    database = await openDatabase(location.location);
  });
  afterAll(async () => {
    await database?.close();
    await drop?.();
  });

  it("answers each attempt only once its writes are committed, and a failing attempt undoes only its own", async () => {
    const observer = new BetterSqlite3(file, { readonly: true });
    const visible = (name: string) => observer.prepare("SELECT value FROM settings WHERE name = ?").get(name) !== undefined;
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, index) =>
        database
          .transaction(async (trx) => {
            await trx.insertInto("settings").values({ name: `row${index}`, value: "x" }).execute();
            if (index === 17) throw new Error("attempt 17 fails after writing");
            return index;
          })
          // Seen from another connection the moment the answer arrives: committed, not just written.
          .then((value) => ({ value, committed: visible(`row${index}`) })),
      ),
    );
    observer.close();
    expect(results[17]).toMatchObject({ status: "rejected", reason: { message: "attempt 17 fails after writing" } });
    const fulfilled = results.filter((result) => result.status === "fulfilled");
    expect(fulfilled).toHaveLength(49);
    expect(fulfilled.every((result) => result.value.committed)).toBe(true);
    const rows = await database.db.selectFrom("settings").select("name").where("name", "like", "row%").execute();
    expect(rows.map((row) => row.name).sort()).toEqual(Array.from({ length: 50 }, (_, index) => `row${index}`).filter((name) => name !== "row17").sort());
  });
});
