import BetterSqlite3 from "better-sqlite3";
import { statSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { benchUser, PasscodeSource, seedUsers } from "../../../bench/seed.js";
import { createBenchWorkspace, type BenchWorkspace } from "../../../bench/workspace.js";
import { Kysely, SqliteDialect, SqliteQueryCompiler } from "kysely";
import { respondToChallenge, validatePasscode } from "../../../validator/operations/validation.js";
import { masterKeyFrom } from "../../../validator/secrets/master-key.js";
import { openDatabase, type Database } from "../../../validator/storage/database.js";
import { GroupCommit } from "../../../validator/storage/group-commit.js";
import type { Schema } from "../../../validator/storage/schema.js";
import { openValidator } from "../../../validator/validator.js";
import { startServe, type ServerProcess } from "../../support/cli.js";
import { testDatabase } from "../../support/test-validator.js";

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

  it("the hot path's synchronous batches: answered once committed, a failing attempt undoes only its own, a transaction opened through Kysely is waited for, not joined", async () => {
    const connection = new BetterSqlite3(file);
    connection.pragma("busy_timeout = 5000");
    const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: connection }) });
    const groupCommit = new GroupCommit(db, connection);
    const insert = connection.prepare("INSERT INTO settings (name, value) VALUES (?, 'x')");
    const observer = new BetterSqlite3(file, { readonly: true });
    const visible = (name: string) => observer.prepare("SELECT value FROM settings WHERE name = ?").get(name) !== undefined;
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 50 }, (_, index) =>
          groupCommit
            .runSync(() => {
              insert.run(`sync${index}`);
              if (index === 17) throw new Error("attempt 17 fails after writing");
              return index;
            })
            .then((value) => ({ value, committed: visible(`sync${index}`) })),
        ),
      );
      expect(results[17]).toMatchObject({ status: "rejected", reason: { message: "attempt 17 fails after writing" } });
      expect(results.filter((result) => result.status === "fulfilled" && result.value.committed)).toHaveLength(49);
      expect(visible("sync17")).toBe(false);

      let answered: Promise<string> | undefined;
      await expect(
        db.transaction().execute(async (trx) => {
          await trx.insertInto("settings").values({ name: "outer", value: "x" }).execute();
          answered = groupCommit.runSync(() => (insert.run("during-outer"), "answered"));
          await new Promise((resolve) => setTimeout(resolve, 20));
          throw new Error("the outer transaction rolls back");
        }),
      ).rejects.toThrow("the outer transaction rolls back");
      expect(await answered).toBe("answered");
      expect([visible("outer"), visible("during-outer")]).toEqual([false, true]);
    } finally {
      observer.close();
      await db.destroy();
    }
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

  it("keeps the WAL bounded under writes that never pause (a RESTART checkpoint rewinds it)", async () => {
    // At least 160 commits of 1 MB each, back to back: without the rewind the WAL ends above 160 MB. On a
    // loaded machine the checkpointer thread may get no CPU for a while (the writer's backstops then
    // rewind it later), so the writes go on, up to 640 MB, until it has shrunk once; the bound holds throughout.
    const rows = Array.from({ length: 250 }, (_, index) => `churn-${index}`);
    let peak = 0;
    let shrank = false;
    for (let commit = 0; commit < 640 && !(shrank && commit >= 160); commit++) {
      await database.transaction(async (trx) => {
        await trx
          .insertInto("settings")
          .values(rows.map((name) => ({ name, value: `${commit}`.padEnd(4000, "x") })))
          .onConflict((conflict) => conflict.column("name").doUpdateSet((update) => ({ value: update.ref("excluded.value") })))
          .execute();
      });
      const size = statSync(`${file}-wal`).size;
      if (size < peak) shrank = true;
      peak = Math.max(peak, size);
    }
    expect(shrank).toBe(true);
    expect(peak).toBeLessThan(64 * 2 ** 20);
  });
});

describe("jeton serve started from a directory other than the project's", () => {
  let workspace: BenchWorkspace;
  let server: ServerProcess;
  let portalKey: string;

  beforeAll(async () => {
    workspace = await createBenchWorkspace("sqlite");
    portalKey = await seedUsers(workspace.location, workspace.masterKey, 20);
    // The working directory holds no node_modules: the checkpointer must find better-sqlite3 on its own.
    server = await startServe(workspace.environment, [], workspace.directory);
  });
  afterAll(async () => {
    await server?.stop();
    await workspace?.remove();
  });

  it("keeps its checkpointer: validations reach the database file", async () => {
    const file = (workspace.location as { file: string }).file;
    const before = statSync(file).size;
    const passcodes = new PasscodeSource();
    for (let round = 0; round < 15; round++) {
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          fetch(`${server.url}/v1/validate`, {
            method: "POST",
            headers: { authorization: `Bearer ${portalKey}`, "content-type": "application/json" },
            body: JSON.stringify({ user: benchUser(index), passcode: passcodes.valid(index) }),
          }).then((response) => response.json() as Promise<{ result: string }>),
        ),
      );
      expect(answers.every((answer) => answer.result === "accept")).toBe(true);
    }
    // The server's own connection never checkpoints (wal_autocheckpoint = 0): only the worker grows the file.
    await vi.waitFor(() => expect(statSync(file).size).toBeGreaterThan(before), { timeout: 5_000, interval: 100 });
    expect(server.output()).not.toMatch(/checkpointer/);
  });
});

describe("the validation hot path on SQLite", () => {
  let workspace: BenchWorkspace;

  beforeAll(async () => {
    workspace = await createBenchWorkspace("sqlite");
    await seedUsers(workspace.location, workspace.masterKey, 30);
  });
  afterAll(async () => {
    await workspace?.remove();
  });

  it("builds no query and prepares no statement once warm: accepts, rejects, unknown users and challenges", async () => {
    const ctx = await openValidator({ database: workspace.location, masterKey: masterKeyFrom(workspace.masterKey) });
    const actor = { id: "test", role: "portal", source: "test" };
    const passcodes = new PasscodeSource();
    const round = (users: number[]) =>
      Promise.all(
        users.flatMap((index) => [
          validatePasscode(ctx, actor, benchUser(index), passcodes.valid(index)),
          validatePasscode(ctx, actor, benchUser(index + 10), passcodes.wrong()),
          validatePasscode(ctx, actor, `nobody${index}`, passcodes.wrong()),
          respondToChallenge(ctx, actor, benchUser(index + 20), "00000000-0000-4000-8000-000000000000", "123456"),
        ]),
      );
    try {
      await round([0, 1]);
      const compiled = vi.spyOn(SqliteQueryCompiler.prototype, "compileQuery");
      const prepared = vi.spyOn(BetterSqlite3.prototype, "prepare");
      const decisions = await round([2, 3, 4, 5, 6, 7, 8, 9]);
      expect(decisions.map((decision) => decision.result)).toEqual(Array.from({ length: 8 }, () => ["accept", "reject", "reject", "reject"]).flat());
      expect(compiled).not.toHaveBeenCalled();
      expect(prepared).not.toHaveBeenCalled();
    } finally {
      vi.restoreAllMocks();
      await ctx.database.close();
    }
  });
});
