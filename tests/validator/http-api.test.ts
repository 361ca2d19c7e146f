import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects, startValidator, testDatabase, type RunningValidator } from "../support/test-validator.js";

describe.each(dialects)("HTTP API contract on %s", (dialect) => {
  let v: RunningValidator;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const database = await testDatabase(dialect);
    drop = database.drop;
    v = await startValidator(database.location);
    await v.request("POST", "/v1/tokens", { serial: "JT00000001", secret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" });
    await v.request("POST", "/v1/tokens/JT00000001/assign", { user: "jdupont" });
  });
  afterAll(async () => {
    await v?.close();
    await drop?.();
  });

  /** Everything a refused request must leave untouched. */
  async function snapshot() {
    const db = v.ctx.database.db;
    return {
      audit: (await db.selectFrom("audit_log").select(db.fn.countAll().as("n")).executeTakeFirstOrThrow()).n,
      tokens: await db.selectFrom("tokens").selectAll().orderBy("serial").execute(),
      users: await db.selectFrom("users").selectAll().orderBy("name").execute(),
      challenges: await db.selectFrom("challenges").selectAll().orderBy("id").execute(),
    };
  }

  it("serves health without a key and the OpenAPI document", async () => {
    expect((await fetch(`${v.url}/health`)).status).toBe(200);
    const openapi = await v.request("GET", "/v1/openapi.json");
    expect(openapi.json.openapi).toBe("3.1.0");
    expect(Object.keys(openapi.json.paths)).toEqual(expect.arrayContaining(["/v1/validate", "/v1/tokens", "/v1/users/{user}/emergency", "/v1/audit"]));
  });

  it("registers tokens from base32 (padding optional) or hex, with profile defaults", async () => {
    const base32 = await v.request("POST", "/v1/tokens", { serial: "third-party_01.A", secret: "gezdgnbvgy3tqojqgezdgnbvgy3tqojq", algorithm: "SHA1", digits: 8, period: 30 });
    expect(base32.status).toBe(201);
    expect(base32.json).toMatchObject({ serial: "third-party_01.A", algorithm: "SHA1", digits: 8, period: 30, status: "active", user: null });
    const padded = await v.request("POST", "/v1/tokens", { serial: "JT00000002", secret: "GEZDGNBVGY3TQOJQGEZDGNBVGY======" });
    expect(padded.status).toBe(201);
    const hex = await v.request("POST", "/v1/tokens", { serial: "JT00000003", secretHex: randomBytes(32).toString("hex") });
    expect(hex.json).toMatchObject({ algorithm: "SHA256", digits: 6, period: 60 });
    expect(JSON.stringify(hex.json)).not.toMatch(/secret/i);
  });

  it("answers 401 without or with a wrong key and 403 for the wrong role", async () => {
    const body = { user: "jdupont", passcode: "123456" };
    expect((await fetch(`${v.url}/v1/validate`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } })).status).toBe(401);
    const wrong = await v.request("POST", "/v1/validate", body, "portal", { authorization: "Bearer jeton_000000000000_" + "A".repeat(43) });
    expect(wrong.status).toBe(401);
    expect((await v.request("POST", "/v1/validate", body, "helpdesk")).status).toBe(403);
    expect((await v.request("POST", "/v1/tokens", { serial: "X1", secretHex: "00".repeat(20) }, "support")).status).toBe(403);
    expect((await v.request("GET", "/v1/tokens/JT00000001", undefined, "portal")).status).toBe(403);
    expect((await v.request("GET", "/v1/audit", undefined, "portal")).status).toBe(403);
    // helpdesk ⊇ support
    expect((await v.request("POST", "/v1/users/jdupont/unlock", {}, "helpdesk")).status).toBe(200);
  });

  it("refuses malformed, oversized and unknown-field bodies with field errors and changes nothing", async () => {
    const before = await snapshot();
    const cases: [string, string, unknown, string][] = [
      ["POST", "/v1/validate", "{not json", "portal"],
      ["POST", "/v1/validate", { user: "jdupont", passcode: "1".repeat(10_000) }, "portal"],
      ["POST", "/v1/validate", JSON.stringify({ user: "jdupont", passcode: "x".repeat(20_000) }), "portal"],
      ["POST", "/v1/validate", { user: "jdupont", passcode: "123456", admin: true }, "portal"],
      ["POST", "/v1/validate", { user: "jdupont" }, "portal"],
      ["POST", "/v1/validate", { user: "bad user/name", passcode: "123456" }, "portal"],
      ["POST", "/v1/validate", { user: "jdupont", challenge: "abc", response: "1", passcode: "1" }, "portal"],
      ["POST", "/v1/validate", [1, 2], "portal"],
      ["POST", "/v1/tokens", { serial: "JT00000009", secret: "not base32!" }, "helpdesk"],
      ["POST", "/v1/tokens", { serial: "JT00000009", secretHex: "00".repeat(8) }, "helpdesk"],
      ["POST", "/v1/tokens", { serial: "JT00000009", secret: "GEZDGNBVGY3TQOJQ", secretHex: "00" }, "helpdesk"],
      ["POST", "/v1/tokens", { serial: "x".repeat(65), secretHex: "00".repeat(20) }, "helpdesk"],
      ["POST", "/v1/tokens", { serial: "JT00000009", secretHex: "00".repeat(20), algorithm: "MD5" }, "helpdesk"],
      ["POST", "/v1/tokens/JT00000001/assign", { user: "" }, "helpdesk"],
      ["POST", "/v1/tokens/JT00000001/disable", { reason: "misplaced" }, "support"],
      ["POST", "/v1/users/jdupont/unlock", { force: true }, "support"],
      ["GET", "/v1/audit?limit=0", undefined, "auditor"],
      ["GET", "/v1/audit?since=yesterday", undefined, "auditor"],
    ];
    for (const [method, path, body, role] of cases) {
      const answer = await v.request(method, path, body, role as "portal");
      expect(answer.status, `${method} ${path} ${String(JSON.stringify(body)).slice(0, 80)}`).toBe(400);
      expect(answer.json.error).toBe("invalid-request");
    }
    const unknownField = await v.request("POST", "/v1/validate", { user: "jdupont", passcode: "123456", admin: true }, "portal");
    expect(unknownField.json.fields).toEqual([{ field: "admin", message: "unknown field" }]);
    const shortSecret = await v.request("POST", "/v1/tokens", { serial: "JT00000009", secretHex: "00".repeat(8) });
    expect(shortSecret.json.message).toMatch(/at least 16 bytes/);
    expect(await snapshot()).toEqual(before);
  });

  it("answers 404 for unknown tokens and users and 409 for a serial registered twice or assigned elsewhere", async () => {
    expect((await v.request("GET", "/v1/tokens/NOPE")).status).toBe(404);
    expect((await v.request("GET", "/v1/users/nobody")).status).toBe(404);
    expect((await v.request("POST", "/v1/users/nobody/emergency", {})).status).toBe(404);
    expect((await v.request("POST", "/v1/tokens/NOPE/assign", { user: "jdupont" })).status).toBe(404);
    expect((await v.request("POST", "/v1/tokens", { serial: "JT00000001", secretHex: "00".repeat(20) })).status).toBe(409);
    expect((await v.request("POST", "/v1/tokens/JT00000001/assign", { user: "someone.else" })).status).toBe(409);
    expect((await v.request("POST", "/v1/tokens/JT00000001/unassign", {})).json.user).toBeNull();
    expect((await v.request("POST", "/v1/tokens/JT00000001/assign", { user: "someone.else" })).json.user).toBe("someone.else");
    expect((await v.request("GET", "/v1/nothing-here")).status).toBe(404);
  });

  it("keeps the audit log append-only at the database", async () => {
    const db = v.ctx.database.db;
    await expect(db.deleteFrom("audit_log").execute()).rejects.toThrow(/append-only/);
    await expect(db.updateTable("audit_log").set({ result: "forged" }).execute()).rejects.toThrow(/append-only/);
  });

  it("filters the audit log by user, serial and time", async () => {
    const bySerial = await v.request("GET", "/v1/audit?serial=JT00000001", undefined, "auditor");
    expect(bySerial.json.entries.length).toBeGreaterThan(0);
    expect(bySerial.json.entries.every((entry: { serial: string }) => entry.serial === "JT00000001")).toBe(true);
    const future = await v.request("GET", `/v1/audit?since=${encodeURIComponent("2099-01-01T00:00:00Z")}`, undefined, "auditor");
    expect(future.json.entries).toEqual([]);
    const limited = await v.request("GET", "/v1/audit?limit=2", undefined, "auditor");
    expect(limited.json.entries).toHaveLength(2);
  });
});
