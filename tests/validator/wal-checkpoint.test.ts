import { statSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { openDatabase, type Database } from "../../validator/storage/database.js";
import { testDatabase } from "../support/test-validator.js";

describe("SQLite checkpoints off the request path", () => {
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
