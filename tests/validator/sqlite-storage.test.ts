import BetterSqlite3 from "better-sqlite3";
import { statSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { openDatabase, type Database } from "../../validator/storage/database.js";
import { testDatabase } from "../support/test-validator.js";

describe("SQLite storage: group commit and checkpoints", () => {
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

  it("the checkpointer thread copies committed pages into the database file", async () => {
    const before = statSync(file).size;
    // Writers never checkpoint themselves (wal_autocheckpoint = 0): only the worker can grow the file.
    for (let batch = 0; batch < 20; batch++) {
      await database.transaction(async (trx) => {
        await trx
          .insertInto("settings")
          .values(Array.from({ length: 100 }, (_, index) => ({ name: `filler-${batch}-${index}`, value: "x".repeat(200) })))
          .execute();
      });
    }
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(400_000);
    await vi.waitFor(() => expect(statSync(file).size).toBeGreaterThan(before + 300_000), { timeout: 5_000, interval: 100 });
  });
});
