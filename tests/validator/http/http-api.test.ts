import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { secretFingerprint, setTimeMac } from "../../../common/token-service/token-protocol.js";
import { addStaff } from "../../../validator/operations/staff.js";
import { referenceCode, referenceStep } from "../../support/reference-totp.js";
import { rememberSecret } from "../../support/secret-registry.js";
import { dialects, startValidator, testDatabase, validatorForSuite, type RunningValidator } from "../../support/test-validator.js";

describe.each(dialects)("HTTP API contract on %s", (dialect) => {
  let v: RunningValidator;
  validatorForSuite(dialect, (started) => (v = started));

  beforeAll(async () => {
    await v.request("POST", "/v1/tokens", { serial: "JT00000001", secret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" });
    await v.request("POST", "/v1/tokens/JT00000001/assign", { user: "jdupont" });
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
    expect(Object.keys(openapi.json.paths)).toEqual(expect.arrayContaining(["/v1/validate", "/v1/tokens", "/v1/tokens/batch", "/v1/tokens/{serial}/clock-confirmed", "/v1/users/{user}/emergency", "/v1/audit"]));
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
    // The key is checked before the body is read: without one, a malformed or large body is not parsed.
    for (const raw of ["{not json", JSON.stringify({ tokens: Array.from({ length: 1000 }, (_, index) => ({ serial: `P${index}`, secretHex: "00".repeat(20) })) })]) {
      const anonymous = await fetch(`${v.url}/v1/tokens/batch`, { method: "POST", body: raw, headers: { "content-type": "application/json" } });
      expect(anonymous.status).toBe(401);
    }
    const wrong = await v.request("POST", "/v1/validate", body, "portal", { authorization: "Bearer jeton_000000000000_" + "A".repeat(43) });
    expect(wrong.status).toBe(401);
    expect((await v.request("POST", "/v1/validate", body, "helpdesk")).status).toBe(403);
    expect((await v.request("POST", "/v1/tokens", { serial: "X1", secretHex: "00".repeat(20) }, "support")).status).toBe(403);
    expect((await v.request("GET", "/v1/tokens/JT00000001", undefined, "portal")).status).toBe(403);
    expect((await v.request("GET", "/v1/audit", undefined, "portal")).status).toBe(403);
    // helpdesk ⊇ support
    expect((await v.request("POST", "/v1/users/jdupont/unlock", {}, "helpdesk")).status).toBe(200);
    // The scheme is case-insensitive.
    expect((await fetch(`${v.url}/v1/audit?limit=1`, { headers: { authorization: `bearer ${v.keys.auditor}` } })).status).toBe(200);
    // Auditors read what the console shows them (a user's page, a token), and act on nothing.
    expect((await v.request("GET", "/v1/users/jdupont", undefined, "auditor")).json).toMatchObject({ user: "jdupont" });
    expect((await v.request("GET", "/v1/tokens/JT00000001", undefined, "auditor")).json).toMatchObject({ serial: "JT00000001" });
    expect((await v.request("POST", "/v1/users/jdupont/unlock", {}, "auditor")).status).toBe(403);
    expect((await v.request("POST", "/v1/tokens/JT00000001/disable", { reason: "lost" }, "auditor")).status).toBe(403);
    expect((await v.request("GET", "/v1/users/jdupont", undefined, "portal")).status).toBe(403);
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

  it("keeps no text typed as an identifier that names nobody: its keyed fingerprint only, the same for the same text", async () => {
    // People type their PIN + code into the identifier field; support reads the audit log.
    const typed = ["480271123456", "480271123456", "480271654321"];
    for (const user of typed) rememberSecret(user);
    for (const user of typed) expect((await v.request("POST", "/v1/validate", { user, passcode: "000000" }, "portal")).json.result).toBe("reject");
    const rows = await v.ctx.database.db.selectFrom("audit_log").selectAll().where("event", "=", "validate").orderBy("id", "desc").limit(3).execute();
    const text = JSON.stringify(rows);
    for (const user of typed) expect(text).not.toContain(user);
    const identifiers = rows.reverse().map((row) => {
      expect(row.user_name).toBeNull();
      return (JSON.parse(row.detail!) as { reason: string; identifier: string }).identifier;
    });
    expect(identifiers[0]).toBe(identifiers[1]);
    expect(identifiers[2]).not.toBe(identifiers[0]);
    expect(identifiers[0]).toBe(v.ctx.unknownIdentifier(typed[0]!));
    const audited = await v.request("GET", "/v1/audit?limit=3", undefined, "auditor");
    expect(JSON.stringify(audited.json)).not.toContain(typed[0]);
  });

  it("guards staff accounts: what could open one needs a role above theirs, is refused with 403 and audited; closing stays open", async () => {
    const operator = { id: "local:test", role: "operator", source: "cli" };
    /** A staff member with a PIN chosen at first use, and a spare disabled token of theirs. */
    async function staff(user: string, role: "helpdesk" | "support", serial: string) {
      const secret = randomBytes(32);
      rememberSecret(secret.toString("hex"));
      expect((await v.request("POST", "/v1/tokens", { serial, secretHex: secret.toString("hex") })).status).toBe(201);
      expect((await v.request("POST", `/v1/tokens/${serial}/assign`, { user })).status).toBe(200);
      const challenge = await v.request("POST", "/v1/validate", { user, passcode: referenceCode(secret, referenceStep(v.clock.now())) }, "portal");
      expect((await v.request("POST", "/v1/validate", { user, challenge: challenge.json.challenge.id, response: "480271" }, "portal")).json.result).toBe("accept");
      expect((await v.request("POST", "/v1/tokens", { serial: `${serial}-OLD`, secretHex: randomBytes(32).toString("hex") })).status).toBe(201);
      await v.request("POST", `/v1/tokens/${serial}-OLD/assign`, { user });
      expect((await v.request("POST", `/v1/tokens/${serial}-OLD/disable`, { reason: "lost" }, "support")).status).toBe(200);
      await addStaff(v.ctx, operator, user, role);
    }
    rememberSecret("480271");
    await staff("hdesk", "helpdesk", "STAFF-H");
    await staff("sup", "support", "STAFF-S");
    expect((await v.request("GET", "/v1/users/hdesk", undefined, "support")).json.staffRole).toBe("helpdesk");
    expect((await v.request("GET", "/v1/users/jdupont", undefined, "support")).json.staffRole).toBeNull();
    expect((await v.request("POST", "/v1/tokens", { serial: "STAFF-NEW", secretHex: randomBytes(32).toString("hex") })).status).toBe(201);

    // Support cannot open a help-desk account, nor a support colleague's; the help desk cannot open a help-desk colleague's.
    const refused: [string, unknown, "support" | "helpdesk", string, string][] = [
      ["/v1/users/hdesk/pin-reset", {}, "support", "user.pin-reset", "hdesk"],
      ["/v1/tokens/STAFF-H-OLD/enable", {}, "support", "token.enable", "hdesk"],
      ["/v1/users/hdesk/emergency", {}, "support", "emergency.issue", "hdesk"],
      ["/v1/users/sup/pin-reset", {}, "support", "user.pin-reset", "sup"],
      ["/v1/users/HDESK/pin-reset", {}, "helpdesk", "user.pin-reset", "hdesk"],
      ["/v1/tokens/STAFF-NEW/assign", { user: "hdesk" }, "helpdesk", "token.assign", "hdesk"],
      ["/v1/tokens/STAFF-H-OLD/enable", {}, "helpdesk", "token.enable", "hdesk"],
      ["/v1/users/hdesk/emergency", {}, "helpdesk", "emergency.issue", "hdesk"],
      ["/v1/users/hdesk/unlock", {}, "support", "user.unlock", "hdesk"],
      ["/v1/users/hdesk/unlock", {}, "helpdesk", "user.unlock", "hdesk"],
    ];
    for (const [path, body, role, event, user] of refused) {
      const before = await snapshot();
      const response = await v.request("POST", path, body, role);
      expect(response.status, `${role} ${path}`).toBe(403);
      expect(response.json).toMatchObject({ error: "forbidden", message: expect.stringMatching(/is a staff member \(\w+\).*local command: jeton staff (pin-reset|assign|enable|emergency|unlock) /) });
      const after = await snapshot();
      expect(after.audit).toBe(Number(before.audit) + 1);
      expect({ ...after, audit: 0 }).toEqual({ ...before, audit: 0 });
      const [entry] = (await v.request("GET", "/v1/audit?limit=1", undefined, "auditor")).json.entries;
      expect(entry).toMatchObject({ event, result: "refused", role, user, detail: { reason: "staff-account" } });
    }
    expect((await v.request("GET", "/v1/users/hdesk", undefined, "support")).json).toMatchObject({ pinSet: true, emergency: null });
    expect((await v.request("GET", "/v1/tokens/STAFF-NEW", undefined, "support")).json.user).toBeNull();

    // A role above: the help desk opens a support member's account.
    expect((await v.request("POST", "/v1/users/sup/emergency", {}, "helpdesk")).status).toBe(200);
    expect((await v.request("POST", "/v1/tokens/STAFF-S-OLD/enable", {}, "helpdesk")).status).toBe(200);
    expect((await v.request("POST", "/v1/users/sup/pin-reset", {}, "helpdesk")).json.pinSet).toBe(false);
    // Closing a way in stays open to every role that has it: a lost staff token must go at once.
    expect((await v.request("POST", "/v1/users/sup/unlock", {}, "helpdesk")).status).toBe(200);
    expect((await v.request("POST", "/v1/tokens/STAFF-H/disable", { reason: "lost" }, "support")).json.status).toBe("disabled");
    expect((await v.request("POST", "/v1/tokens/STAFF-H/unassign", {}, "helpdesk")).json.user).toBeNull();
  });

  it("adding a staff member voids their open challenges and revokes an emergency password issued before", async () => {
    const secret = randomBytes(32);
    rememberSecret(secret.toString("hex"));
    await v.request("POST", "/v1/tokens", { serial: "STAFF-LATE", secretHex: secret.toString("hex") });
    await v.request("POST", "/v1/tokens/STAFF-LATE/assign", { user: "late" });
    const code = (offset: number) => referenceCode(secret, referenceStep(v.clock.now()) + offset);
    const first = await v.request("POST", "/v1/validate", { user: "late", passcode: code(0) }, "portal");
    await v.request("POST", "/v1/validate", { user: "late", challenge: first.json.challenge.id, response: "480271" }, "portal");
    const issued = await v.request("POST", "/v1/users/late/emergency", {}, "support");
    rememberSecret(issued.json.password);
    // A next-code challenge left open (a code far from the learned offset).
    const open = await v.request("POST", "/v1/validate", { user: "late", passcode: "480271" + code(5) }, "portal");
    expect(open.json.challenge.kind).toBe("next-code");

    await addStaff(v.ctx, { id: "local:test", role: "operator", source: "cli" }, "late", "support");
    expect((await v.request("GET", "/v1/users/late", undefined, "support")).json.emergency).toBeNull();
    expect((await v.request("POST", "/v1/validate", { user: "late", passcode: "480271" + issued.json.password }, "portal")).json.result).toBe("reject");
    expect((await v.request("POST", "/v1/validate", { user: "late", challenge: open.json.challenge.id, response: code(6) }, "portal")).json.result).toBe("reject");
    const [added] = (await v.request("GET", "/v1/audit?user=late&limit=4", undefined, "auditor")).json.entries.filter((entry: { event: string }) => entry.event === "staff.add");
    expect(added).toMatchObject({ result: "ok", detail: { role: "support", emergencyRevoked: true } });
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
  it("refuses a seed already registered under another serial, also through the batch endpoint (finding 7)", async () => {
    const seed = randomBytes(32).toString("hex");
    expect((await v.request("POST", "/v1/tokens", { serial: "SEED-A", secretHex: seed })).status).toBe(201);
    const before = await snapshot();
    // the attack: the same seed under a second serial, so one passcode would be accepted for both
    const again = await v.request("POST", "/v1/tokens", { serial: "SEED-B", secretHex: seed.toUpperCase() });
    expect(again.status).toBe(409);
    expect(again.json.message).toMatch(/secret of token SEED-B is already registered \(token SEED-A\)/);
    // the same bytes in base32, in a batch: refused, and the batch's other token is not registered either
    const base32 = Buffer.from(seed, "hex");
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let bits = "";
    for (const byte of base32) bits += byte.toString(2).padStart(8, "0");
    const encoded = (bits.match(/.{1,5}/g) ?? []).map((chunk) => alphabet[parseInt(chunk.padEnd(5, "0"), 2)]).join("");
    const batch = await v.request("POST", "/v1/tokens/batch", { tokens: [{ serial: "SEED-C", secretHex: randomBytes(20).toString("hex") }, { serial: "SEED-D", secret: encoded }] });
    expect(batch.status).toBe(409);
    expect(batch.json.message).toMatch(/secret of token SEED-D is already registered \(token SEED-A\)/);
    expect(await snapshot()).toEqual(before);
    // stored as a keyed fingerprint (not the seed, not a plain hash of it) in a unique column
    const row = await v.ctx.database.db.selectFrom("tokens").select("seed_fingerprint").where("serial", "=", "SEED-A").executeTakeFirstOrThrow();
    expect(row.seed_fingerprint).toBe(v.ctx.vault.fingerprint(Buffer.from(seed, "hex")));
    await expect(
      v.ctx.database.db.updateTable("tokens").set({ seed_fingerprint: row.seed_fingerprint }).where("serial", "=", "JT00000002").execute(),
    ).rejects.toThrow(/unique|duplicate/i);
  });

  it("two registrations of one seed racing under two serials: one is registered, the other refused with 409 (finding 7)", async () => {
    const seed = randomBytes(32).toString("hex");
    const answers = await Promise.all(["RACE-1", "RACE-2", "RACE-3"].map((serial) => v.request("POST", "/v1/tokens", { serial, secretHex: seed })));
    expect(answers.map((answer) => answer.status).sort()).toEqual([201, 409, 409]);
    const rows = await v.ctx.database.db.selectFrom("tokens").select("serial").where("serial", "like", "RACE-%").execute();
    expect(rows).toHaveLength(1);
  });

  it("registers a batch all or nothing: one refused token leaves nothing registered (finding 2)", async () => {
    const twin = randomBytes(20).toString("hex");
    const before = await snapshot();
    const cases: [unknown, number, RegExp][] = [
      [{ tokens: [{ serial: "B-1", secretHex: randomBytes(20).toString("hex") }, { serial: "JT00000001", secretHex: randomBytes(20).toString("hex") }] }, 409, /token JT00000001 is already registered/],
      [{ tokens: [{ serial: "B-1", secretHex: twin }, { serial: "B-2", secretHex: twin }] }, 409, /tokens B-1 and B-2 have the same secret/],
      [{ tokens: [{ serial: "B-1", secretHex: randomBytes(20).toString("hex") }, { serial: "B-1", secretHex: randomBytes(20).toString("hex") }] }, 409, /serial B-1 appears 2 times/],
      [{ tokens: [{ serial: "B-1", secretHex: randomBytes(20).toString("hex") }, { serial: "B-2", secretHex: "00".repeat(8) }] }, 400, /B-2: the secret must be at least 16 bytes/],
      [{ tokens: [] }, 400, /tokens/],
    ];
    for (const [body, status, message] of cases) {
      const answer = await v.request("POST", "/v1/tokens/batch", body);
      expect(answer.status, JSON.stringify(answer.json)).toBe(status);
      expect(JSON.stringify(answer.json)).toMatch(message);
    }
    expect((await v.request("POST", "/v1/tokens/batch", { tokens: [{ serial: "B-1", secretHex: twin }] }, "support")).status).toBe(403);
    expect(await snapshot()).toEqual(before);

    const tokens = Array.from({ length: 300 }, (_, i) => ({ serial: `BATCH-${i}`, secretHex: randomBytes(32).toString("hex"), period: 30 }));
    const accepted = await v.request("POST", "/v1/tokens/batch", { tokens });
    expect(accepted.status).toBe(201);
    expect(accepted.json.tokens).toHaveLength(300);
    expect(accepted.json.tokens[299]).toMatchObject({ serial: "BATCH-299", period: 30, user: null, status: "active" });
    expect(JSON.stringify(accepted.json)).not.toMatch(/secret/i);
  });

  describe("set-time-mac and clock-confirmed (finding 17)", () => {
    const seed = randomBytes(32);
    const serial = "CLOCK-1";
    const fingerprint = secretFingerprint(seed, serial).toString("hex");
    const now = () => Math.round(v.clock.now() / 1000);
    const offset = async () => (await v.request("GET", `/v1/tokens/${serial}`)).json.offsetSteps;
    beforeAll(async () => {
      await v.request("POST", "/v1/tokens", { serial, secretHex: seed.toString("hex") });
      await v.ctx.database.db.updateTable("tokens").set({ offset_steps: 3 }).where("serial", "=", serial).execute();
    });

    it("refuses a counter that would use up the token's counter space", async () => {
      const before = await snapshot();
      for (const counter of [2 ** 32 - 1, 17, 0]) {
        const answer = await v.request("POST", `/v1/tokens/${serial}/set-time-mac`, { fingerprint, time: now(), counter });
        expect(answer.status, String(counter)).toBe(400);
        expect(JSON.stringify(answer.json)).toMatch(/counter/);
        expect(answer.json.mac).toBeUndefined();
      }
      expect(await snapshot()).toEqual(before);
    });

    it("signing changes no offset; the token's confirmation resets it and records the counter", async () => {
      const time = now();
      const signed = await v.request("POST", `/v1/tokens/${serial}/set-time-mac`, { fingerprint, time, counter: 1 });
      expect(signed.status).toBe(200);
      expect(signed.json.mac).toBe(setTimeMac(seed, time, 1).toString("hex"));
      expect(await offset()).toBe(3); // the token may never apply it

      // a confirmation needs the MAC the validator signed for that time and counter
      const forged = await v.request("POST", `/v1/tokens/${serial}/clock-confirmed`, { fingerprint, time, counter: 1, mac: "00".repeat(32) });
      expect(forged.status).toBe(400);
      const otherCounter = await v.request("POST", `/v1/tokens/${serial}/clock-confirmed`, { fingerprint, time, counter: 2, mac: signed.json.mac });
      expect(otherCounter.status).toBe(400);
      expect((await v.request("POST", `/v1/tokens/${serial}/clock-confirmed`, { fingerprint, time, counter: 1, mac: signed.json.mac }, "support")).status).toBe(403);
      expect(await offset()).toBe(3);

      const confirmed = await v.request("POST", `/v1/tokens/${serial}/clock-confirmed`, { fingerprint, time, counter: 1, mac: signed.json.mac });
      expect(confirmed.status).toBe(200);
      expect(confirmed.json.offsetSteps).toBe(0);
      // counters now start above the confirmed one: a replay of the confirmation is refused
      expect((await v.request("POST", `/v1/tokens/${serial}/clock-confirmed`, { fingerprint, time, counter: 1, mac: signed.json.mac })).status).toBe(400);
      expect((await v.request("POST", `/v1/tokens/${serial}/set-time-mac`, { fingerprint, time: now(), counter: 1 })).status).toBe(400);
      expect((await v.request("POST", `/v1/tokens/${serial}/set-time-mac`, { fingerprint, time: now(), counter: 17 })).status).toBe(200);
      const audit = await v.request("GET", `/v1/audit?serial=${serial}&limit=10`, undefined, "auditor");
      expect(audit.json.entries.map((entry: { event: string }) => entry.event)).toEqual(expect.arrayContaining(["token.set-time-signed", "token.clock-confirmed"]));
      expect(JSON.stringify(audit.json)).not.toContain(signed.json.mac);
    });

    it("signs and records nothing for a device whose fingerprint is not the token's (it does not hold the seed)", async () => {
      const before = await snapshot();
      const other = secretFingerprint(randomBytes(32), serial).toString("hex");
      const time = now();
      const signed = await v.request("POST", `/v1/tokens/${serial}/set-time-mac`, { fingerprint: other, time, counter: 2 });
      expect(signed.status).toBe(409);
      expect(signed.json.mac).toBeUndefined();
      expect(signed.json.message).toMatch(/fingerprint is not token CLOCK-1's/);
      const mac = setTimeMac(seed, time, 2).toString("hex");
      expect((await v.request("POST", `/v1/tokens/${serial}/clock-confirmed`, { fingerprint: other, time, counter: 2, mac })).status).toBe(409);
      expect(await snapshot()).toEqual(before);
    });

    it("refuses a confirmation long after the signed time", async () => {
      const time = now() - 3600;
      const mac = setTimeMac(seed, time, 2).toString("hex");
      const late = await v.request("POST", `/v1/tokens/${serial}/clock-confirmed`, { fingerprint, time, counter: 2, mac });
      expect(late.status).toBe(400);
      expect(late.json.message).toMatch(/within 300 s/);
    });
  });
});

describe.each(dialects)("seed fingerprints of tokens registered before them, on %s (finding 7)", (dialect) => {
  it("are filled in at start-up; a token sharing an older token's seed is disabled and cannot be enabled", async () => {
    const database = await testDatabase(dialect);
    const masterKey = randomBytes(32);
    let v = await startValidator(database.location, { masterKey });
    try {
      const shared = randomBytes(32);
      const alone = randomBytes(32);
      // rows as an older version wrote them: no fingerprint
      const row = (serial: string, seed: Buffer, createdAt: number) => {
        const sealed = v.ctx.vault.seal(serial, seed);
        return { serial, algorithm: "SHA256", digits: 6, period: 60, t0: 0, sealed_secret: sealed.ciphertext, key_id: sealed.keyId, seed_fingerprint: null, created_at: createdAt };
      };
      await v.ctx.database.db
        .insertInto("tokens")
        .values([row("OLD-1", shared, 1000), row("OLD-2", shared, 2000), row("OLD-3", alone, 3000)])
        .execute();
      await v.close();
      const warnings: string[] = [];
      const { openValidator } = await import("../../../validator/validator.js");
      const { masterKeyFrom } = await import("../../../validator/secrets/master-key.js");
      const reopened = await openValidator({ database: database.location, masterKey: masterKeyFrom(masterKey), warn: (line) => warnings.push(line) });
      await reopened.database.close();
      expect(warnings).toEqual(["token OLD-2 has the same secret as token OLD-1: it is disabled (re-provision it)"]);

      v = await startValidator(database.location, { masterKey });
      const fingerprints = await v.ctx.database.db.selectFrom("tokens").select(["serial", "seed_fingerprint", "disabled_at"]).orderBy("serial").execute();
      expect(fingerprints.map((t) => [t.serial, t.seed_fingerprint !== null, t.disabled_at !== null])).toEqual([
        ["OLD-1", true, false],
        ["OLD-2", false, true],
        ["OLD-3", true, false],
      ]);
      const enable = await v.request("POST", "/v1/tokens/OLD-2/enable", {}, "support");
      expect(enable.status).toBe(409);
      expect(enable.json.message).toMatch(/shares its secret with another token/);
      expect((await v.request("POST", "/v1/tokens", { serial: "NEW-1", secretHex: alone.toString("hex") })).status).toBe(409);
      const audit = await v.request("GET", "/v1/audit?serial=OLD-2", undefined, "auditor");
      expect(audit.json.entries[0]).toMatchObject({ event: "token.disable", actor: "system:start-up", detail: { reason: "seed-shared", with: "OLD-1" } });
    } finally {
      await v.close();
      await database.drop();
    }
  });
});
