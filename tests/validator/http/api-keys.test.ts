// API keys can be listed (never shown again), revoked and made to expire, and every validator instance on
// the database refuses a revoked or expired key within seconds. On both dialects: in-process instances
// sharing one database, then the `jeton keys` commands against a running `jeton serve`.
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KEY_RECHECK_MILLIS } from "../../../validator/http/authentication.js";
import { issueApiKey, listApiKeys, parseKeyExpiry, revokeApiKey } from "../../../validator/operations/api-keys.js";
import { OperationError } from "../../../validator/operations/operation-error.js";
import { readAudit } from "../../../validator/storage/audit-log.js";
import { jeton, startServe, type ServerProcess } from "../../support/cli.js";
import { dialects, startValidator, testDatabase, TestClock, type DialectName, type RunningValidator } from "../../support/test-validator.js";

const operator = { id: "local:tester", role: "operator", source: "cli" };

/** The status an auditor call with `key` gets from `instance`. */
async function statusWith(url: string, key: string): Promise<number> {
  return (await fetch(`${url}/v1/audit?limit=1`, { headers: { authorization: `Bearer ${key}` } })).status;
}

/** Polls until `url` refuses `key`; returns how long that took (ms), or Infinity after `limit`. */
async function refusedWithin(url: string, key: string, limit: number): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < limit) {
    if ((await statusWith(url, key)) === 401) return performance.now() - start;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return Number.POSITIVE_INFINITY;
}

describe.each(dialects)("API keys on %s, two validator instances on one database", (dialect) => {
  const clock = new TestClock();
  let a: RunningValidator;
  let b: RunningValidator;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const database = await testDatabase(dialect);
    drop = database.drop;
    a = await startValidator(database.location, { clock });
    b = await startValidator(database.location, { clock, masterKey: a.masterKey });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await drop?.();
  });

  it("a key revoked on one instance is refused by the other within seconds, and the revocation is audited", async () => {
    const issued = await issueApiKey(a.ctx, operator, { role: "auditor", label: "to revoke" });
    expect(await statusWith(a.url, issued.key)).toBe(200);
    expect(await statusWith(b.url, issued.key)).toBe(200); // b now remembers the key
    const revoked = await revokeApiKey(a.ctx, operator, issued.id);
    expect(revoked).toMatchObject({ id: issued.id, status: "revoked", revokedAt: new Date(clock.millis).toISOString() });
    expect(await refusedWithin(b.url, issued.key, KEY_RECHECK_MILLIS + 3000)).toBeLessThanOrEqual(KEY_RECHECK_MILLIS + 3000);
    expect(await statusWith(a.url, issued.key)).toBe(401);
    await expect(revokeApiKey(a.ctx, operator, issued.id)).rejects.toThrow(/already revoked/);
    await expect(revokeApiKey(a.ctx, operator, "0123456789ab")).rejects.toThrow(OperationError);

    const audit = await readAudit(a.ctx.database.db, { limit: 50 });
    const about = audit.filter((entry) => entry.detail?.keyId === issued.id);
    expect(about.map((entry) => [entry.event, entry.actor, entry.result])).toEqual([
      ["api-key.revoke", "local:tester", "ok"],
      ["api-key.create", "local:tester", "ok"],
    ]);
    expect(JSON.stringify(audit)).not.toContain(issued.key.slice(-43));
  });

  it("an expired key is refused at once, even by an instance that remembers it", async () => {
    const issued = await issueApiKey(a.ctx, operator, { role: "auditor", expiresAt: clock.millis + 3_600_000 });
    expect(issued.view).toMatchObject({ status: "active", expiresAt: new Date(clock.millis + 3_600_000).toISOString() });
    expect(await statusWith(b.url, issued.key)).toBe(200);
    clock.advance(3600);
    expect(await statusWith(b.url, issued.key)).toBe(401);
    expect(await statusWith(a.url, issued.key)).toBe(401);
    expect((await listApiKeys(a.ctx)).find((key) => key.id === issued.id)?.status).toBe("expired");
    await expect(issueApiKey(a.ctx, operator, { role: "auditor", expiresAt: clock.millis })).rejects.toThrow(/not in the future/);
  });

  it("lists id, role, label, dates and last use — never the key nor its hash", async () => {
    const issued = await issueApiKey(a.ctx, operator, { role: "auditor", label: "SIEM export", expiresAt: clock.millis + 90 * 86_400_000 });
    expect(await statusWith(a.url, issued.key)).toBe(200);
    const listed = await listApiKeys(a.ctx);
    expect(listed.find((key) => key.id === issued.id)).toEqual({
      id: issued.id,
      role: "auditor",
      label: "SIEM export",
      status: "active",
      createdAt: new Date(clock.millis).toISOString(),
      expiresAt: new Date(clock.millis + 90 * 86_400_000).toISOString(),
      lastUsedAt: new Date(clock.millis).toISOString(),
      revokedAt: null,
    });
    const secret = issued.key.slice(-43);
    const hash = createHash("sha256").update(secret).digest("base64");
    const text = JSON.stringify(listed);
    for (const forbidden of [secret, hash, "jeton_"]) expect(text).not.toContain(forbidden);
  });

  it("records the last use at most once a minute per key, not once per request", async () => {
    const issued = await issueApiKey(a.ctx, operator, { role: "auditor" });
    const lastUse = async () => (await listApiKeys(a.ctx)).find((key) => key.id === issued.id)!.lastUsedAt;
    expect(await lastUse()).toBeNull();
    const first = clock.millis;
    expect(await statusWith(a.url, issued.key)).toBe(200);
    expect(await lastUse()).toBe(new Date(first).toISOString());
    clock.advance(59);
    for (let request = 0; request < 20; request++) expect(await statusWith(a.url, issued.key)).toBe(200);
    expect(await lastUse()).toBe(new Date(first).toISOString());
    clock.advance(1);
    expect(await statusWith(a.url, issued.key)).toBe(200);
    expect(await lastUse()).toBe(new Date(first + 60_000).toISOString());
  });
});

describe.each(dialects)("the jeton keys commands on %s while jeton serve runs", (dialect: DialectName) => {
  let directory: string;
  let drop: () => Promise<void>;
  let server: ServerProcess;
  let environment: NodeJS.ProcessEnv;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), "jeton-keys-"));
    const postgres = dialect === "postgres" ? await testDatabase(dialect) : null;
    drop = postgres?.drop ?? (async () => undefined);
    const masterKeyFile = join(directory, "master.key");
    writeFileSync(masterKeyFile, randomBytes(32).toString("base64"), { mode: 0o600 });
    environment = {
      JETON_DATA_DIR: join(directory, "data"),
      JETON_MASTER_KEY_FILE: masterKeyFile,
      ...(postgres?.location.kind === "postgres" && { DATABASE_URL: postgres.location.url }),
    };
    server = await startServe(environment);
  });
  afterAll(async () => {
    await server?.stop();
    await drop?.();
    rmSync(directory, { recursive: true, force: true });
  });

  it("creates with a label and an expiry, lists without the key, revokes: the running server refuses the key within seconds", async () => {
    const [created, forAudit] = await Promise.all([
      jeton(["keys", "create", "--role", "auditor", "--label", "SIEM export", "--expires", "90d", "--json"], environment),
      jeton(["keys", "create", "--role", "auditor", "--json"], environment),
    ]);
    expect(created.code, created.stderr).toBe(0);
    const key = JSON.parse(created.stdout) as { id: string; key: string; role: string; label: string; expiresAt: string };
    expect(key).toMatchObject({ role: "auditor", label: "SIEM export" });
    expect(Date.parse(key.expiresAt) - Date.now()).toBeGreaterThan(89 * 86_400_000);
    expect(await statusWith(server.url, key.key)).toBe(200);

    const [table, json] = await Promise.all([jeton(["keys", "list"], environment), jeton(["keys", "list", "--json"], environment)]);
    for (const listed of [table, json]) {
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout).toContain("SIEM export");
      expect(listed.stdout).not.toContain(key.key.slice(-43));
    }
    expect(table.stdout).toMatch(new RegExp(`^${key.id}\\s+auditor\\s+active\\s`, "m"));
    expect((JSON.parse(json.stdout) as { id: string }[]).find((listed) => listed.id === key.id)).toMatchObject({
      role: "auditor",
      status: "active",
      expiresAt: key.expiresAt,
      lastUsedAt: expect.any(String),
    });

    const revoked = await jeton(["keys", "revoke", key.id], environment);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toMatch(new RegExp(`revoked auditor key ${key.id}`));
    expect(await refusedWithin(server.url, key.key, KEY_RECHECK_MILLIS + 3000)).toBeLessThanOrEqual(KEY_RECHECK_MILLIS + 3000);

    const auditor = JSON.parse(forAudit.stdout).key as string;
    const [again, unknown, audit] = await Promise.all([
      jeton(["keys", "revoke", key.id], environment),
      jeton(["keys", "revoke", "0123456789ab"], environment),
      jeton(["audit", "--json"], { JETON_URL: server.url, JETON_API_KEY: auditor }),
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already revoked/);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no API key 0123456789ab/);
    // Who did it: the audit log names the operator at the terminal.
    const entries = (JSON.parse(audit.stdout) as { entries: { event: string; actor: string; detail: { keyId?: string } }[] }).entries;
    const about = entries.filter((entry) => entry.detail?.keyId === key.id);
    expect(about.map((entry) => entry.event)).toEqual(["api-key.revoke", "api-key.create"]);
    for (const entry of about) expect(entry.actor).toMatch(/^local:./);
  });

  it.runIf(dialect === dialects[0])("refuses an unclear or past --expires with a message saying what is accepted (exit 2)", async () => {
    const results = await Promise.all(["2027-06-30", "2000-01-01T00:00:00Z"].map((expires) => jeton(["keys", "create", "--role", "portal", "--expires", expires], environment)));
    for (const result of results) expect(result.code).toBe(2);
    expect(results[0]!.stderr).toMatch(/neither a duration \(12h, 90d, 2w\) nor a date and time with its zone/);
    expect(results[1]!.stderr).toMatch(/2000-01-01T00:00:00.000Z is not in the future/);
  });
});

describe("the --expires format", () => {
  const now = Date.UTC(2026, 10, 26, 8, 0, 0);
  it("takes a duration in hours, days or weeks, or a date and time with its zone", () => {
    expect(parseKeyExpiry("12h", now)).toBe(now + 12 * 3_600_000);
    expect(parseKeyExpiry("90d", now)).toBe(now + 90 * 86_400_000);
    expect(parseKeyExpiry("2w", now)).toBe(now + 14 * 86_400_000);
    expect(parseKeyExpiry("2027-06-30T18:00:00Z", now)).toBe(Date.UTC(2027, 5, 30, 18));
    expect(parseKeyExpiry("2027-06-30T18:00+02:00", now)).toBe(Date.UTC(2027, 5, 30, 16));
  });
  it("refuses what could be read two ways, what does not exist and what is past", () => {
    for (const text of ["90", "0d", "3m", "3 months", "90D", "2027-06-30", "2027-06-30T18:00:00", "2027-06-30 18:00Z", "2027-02-30T18:00Z", "2027-13-01T18:00Z", "2027-06-30T25:00Z"]) {
      expect(() => parseKeyExpiry(text, now), text).toThrow(/neither a duration/);
    }
    expect(() => parseKeyExpiry("2026-11-26T08:00:00Z", now)).toThrow(/not in the future/);
  });
});
