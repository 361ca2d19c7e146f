// Several instances starting together on one embedded SQLite database (a `jeton serve` and a `jeton keys
// create` on a first start or an upgrade): the migrations of one wait for the other's, and both open. An
// attacker review (2026-12-03) found the second failing ("table settings already exists"): Kysely takes
// no migration lock on SQLite.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../../validator/storage/database.js";

describe("several instances starting together on one SQLite database", () => {
  const directory = mkdtempSync(join(tmpdir(), "jeton-migrate-"));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it("both openers of a fresh database succeed (migrations serialised between connections)", async () => {
    const file = join(directory, "jeton.sqlite");
    const results = await Promise.allSettled([openDatabase({ kind: "sqlite", file }), openDatabase({ kind: "sqlite", file })]);
    const opened = results.filter((result): result is PromiseFulfilledResult<Database> => result.status === "fulfilled").map((result) => result.value);
    const failures = results.filter((result): result is PromiseRejectedResult => result.status === "rejected").map((result) => String(result.reason));
    await Promise.all(opened.map((database) => database.close()));
    expect(failures).toEqual([]);
  });
});
