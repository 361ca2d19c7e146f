import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendAudit } from "../../../validator/storage/audit-log.js";
import { openDatabase, type Database } from "../../../validator/storage/database.js";
import { dialects, testDatabase } from "../../support/test-validator.js";

const actor = { id: "key:test", role: "helpdesk", source: "test" };

describe.each(dialects)("the audit log is append-only at the database on %s", (dialect) => {
  let database: Database;
  let drop: () => Promise<void>;
  const rows = () => database.db.selectFrom("audit_log").select(["id", "event", "result"]).orderBy("id").execute();

  beforeAll(async () => {
    const location = await testDatabase(dialect);
    drop = location.drop;
    database = await openDatabase(location.location);
    await appendAudit(database.db, actor, Date.now(), { event: "token.disable", result: "ok", serial: "JT00000001" });
    await appendAudit(database.db, actor, Date.now(), { event: "user.unlock", result: "ok", user: "jdupont" });
  });
  afterAll(async () => {
    await database?.close();
    await drop?.();
  });

  it("refuses UPDATE and DELETE", async () => {
    const before = await rows();
    await expect(database.db.deleteFrom("audit_log").execute()).rejects.toThrow(/append-only/);
    await expect(database.db.updateTable("audit_log").set({ result: "forged" }).execute()).rejects.toThrow(/append-only/);
    expect(await rows()).toEqual(before);
  });

  it("refuses to overwrite an entry by inserting over its id", async () => {
    const before = await rows();
    const [first] = before;
    const overwrite =
      dialect === "sqlite"
        ? [
            sql`INSERT OR REPLACE INTO audit_log (id, at, actor, role, source, event, result) VALUES (${first!.id}, 0, 'forger', 'helpdesk', 'x', 'nothing', 'ok')`,
            sql`REPLACE INTO audit_log (id, at, actor, role, source, event, result) VALUES (${first!.id}, 0, 'forger', 'helpdesk', 'x', 'nothing', 'ok')`,
          ]
        : [
            sql`INSERT INTO audit_log (id, at, actor, role, source, event, result) VALUES (${first!.id}, 0, 'forger', 'helpdesk', 'x', 'nothing', 'ok')
                ON CONFLICT (id) DO UPDATE SET event = excluded.event, actor = excluded.actor`,
          ];
    for (const statement of overwrite) await expect(statement.execute(database.db)).rejects.toThrow(/append-only/);
    expect(await rows()).toEqual(before);
  });

  it.runIf(dialect === "postgres")("refuses TRUNCATE", async () => {
    const before = await rows();
    await expect(sql`TRUNCATE audit_log`.execute(database.db)).rejects.toThrow(/append-only/);
    await expect(sql`TRUNCATE audit_log RESTART IDENTITY CASCADE`.execute(database.db)).rejects.toThrow(/append-only/);
    expect(await rows()).toEqual(before);
  });

  it("still appends, under fresh ids", async () => {
    const before = await rows();
    await appendAudit(database.db, actor, Date.now(), { event: "user.pin-reset", result: "ok", user: "jdupont" });
    const after = await rows();
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after).toHaveLength(before.length + 1);
    expect(after.at(-1)!.id).toBeGreaterThan(before.at(-1)!.id);
  });
});
