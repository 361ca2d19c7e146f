import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jeton, startServe, type ServerProcess } from "../../support/cli.js";
import { referenceCode, referenceStep } from "../../support/reference-totp.js";

describe("the jeton command on the embedded SQLite default", () => {
  let dataDir: string;
  let server: ServerProcess;
  let helpdesk: string;
  let portal: string;
  const seed = randomBytes(32);
  const pin = "583920";
  const secretsUsed: string[] = [seed.toString("hex"), pin];

  const client = () => ({ JETON_URL: server.url, JETON_API_KEY: helpdesk });
  const validate = async (body: unknown) =>
    (await fetch(`${server.url}/v1/validate`, {
      method: "POST",
      headers: { authorization: `Bearer ${portal}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    }).then((response) => response.json())) as { result: string; challenge?: { id: string } };

  beforeAll(async () => {
    dataDir = join(mkdtempSync(join(tmpdir(), "jeton-cli-")), "data");
    server = await startServe({ JETON_DATA_DIR: dataDir });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(join(dataDir, ".."), { recursive: true, force: true });
  });

  it("creates its data directory and a 0600 master key on first start, and says how to create a key", () => {
    expect(statSync(join(dataDir, "master.key")).mode & 0o777).toBe(0o600);
    expect(server.output()).toMatch(/Created the master key .*master\.key \(mode 0600\)/);
    expect(server.output()).toMatch(/jeton keys create --role helpdesk/);
  });

  it("creates API keys directly on the database and prints them once", async () => {
    const created = await jeton(["keys", "create", "--role", "helpdesk", "--json"], { JETON_DATA_DIR: dataDir });
    expect(created.code).toBe(0);
    const parsed = JSON.parse(created.stdout);
    expect(parsed).toMatchObject({ role: "helpdesk", key: expect.stringMatching(/^jeton_/) });
    helpdesk = parsed.key;
    portal = JSON.parse((await jeton(["keys", "create", "--role", "portal", "--json"], { JETON_DATA_DIR: dataDir })).stdout).key;
    const badRole = await jeton(["keys", "create", "--role", "admin"], { JETON_DATA_DIR: dataDir });
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toMatch(/portal, support, helpdesk, auditor/);
  });

  it("runs the support tour: register, assign, show, emergency, unlock, disable, audit", async () => {
    const registered = await jeton(["token", "register", "JT00000042", "--secret-encoding", "hex", "--json"], { ...client(), JETON_TOKEN_SECRET: seed.toString("hex") });
    expect(registered.code, registered.stderr).toBe(0);
    expect(JSON.parse(registered.stdout)).toMatchObject({ serial: "JT00000042", status: "active" });
    expect((await jeton(["token", "assign", "JT00000042", "jdupont"], client())).stdout).toMatch(/user: jdupont/);

    const opened = await validate({ user: "jdupont", passcode: referenceCode(seed, referenceStep(Date.now())) });
    expect((await validate({ user: "jdupont", challenge: opened.challenge!.id, response: pin })).result).toBe("accept");

    const shown = await jeton(["user", "show", "jdupont", "--json"], client());
    expect(JSON.parse(shown.stdout)).toMatchObject({ user: "jdupont", pinSet: true, tokens: [{ serial: "JT00000042" }] });
    const emergency = await jeton(["emergency", "issue", "jdupont", "--json"], client());
    const { password } = JSON.parse(emergency.stdout);
    secretsUsed.push(password, pin + password);
    expect((await validate({ user: "jdupont", passcode: pin + password })).result).toBe("accept");
    expect((await jeton(["emergency", "revoke", "jdupont"], client())).code).toBe(0);
    expect((await jeton(["user", "unlock", "jdupont", "--json"], client())).code).toBe(0);
    expect((await jeton(["user", "pin-reset", "jdupont"], client())).stdout).toMatch(/pinSet: false/);
    expect((await jeton(["token", "disable", "JT00000042", "--reason", "lost"], client())).stdout).toMatch(/status: disabled/);
    const audit = await jeton(["audit", "--user", "jdupont", "--json"], client());
    const events = JSON.parse(audit.stdout).entries.map((entry: { event: string }) => entry.event);
    expect(events).toEqual(expect.arrayContaining(["token.disable", "user.pin-reset", "emergency.issue", "validate", "token.assign"]));
  });

  it("helps a help-desk staff member with the operator's local commands, which the help desk's key may not", async () => {
    const local = { JETON_DATA_DIR: dataDir };
    const staffSeed = randomBytes(32);
    secretsUsed.push(staffSeed.toString("hex"));
    for (const [serial, secret] of [["JT00000051", staffSeed], ["JT00000052", randomBytes(32)]] as const) {
      expect((await jeton(["token", "register", serial, "--secret-encoding", "hex"], { ...client(), JETON_TOKEN_SECRET: secret.toString("hex") })).code).toBe(0);
    }
    expect((await jeton(["token", "assign", "JT00000051", "hstaff"], client())).code).toBe(0);
    const added = await jeton(["staff", "add", "hstaff", "--role", "helpdesk"], local);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stderr).toMatch(/hstaff has no PIN yet/);

    const refused = await jeton(["user", "unlock", "hstaff"], client());
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/hstaff is a staff member \(helpdesk\).*jeton staff unlock <user>/);
    expect((await jeton(["token", "assign", "JT00000052", "hstaff"], client())).stderr).toMatch(/jeton staff assign <serial> <user>/);

    const opened = await validate({ user: "hstaff", passcode: referenceCode(staffSeed, referenceStep(Date.now())) });
    expect((await validate({ user: "hstaff", challenge: opened.challenge!.id, response: pin })).result).toBe("accept");
    expect(JSON.parse((await jeton(["staff", "unlock", "HSTAFF", "--json"], local)).stdout)).toMatchObject({ user: "hstaff", staffRole: "helpdesk" });
    expect((await jeton(["staff", "assign", "JT00000052", "hstaff"], local)).stdout).toBe("JT00000052 assigned to hstaff\n");
    expect((await jeton(["token", "disable", "JT00000052", "--reason", "lost"], client())).code).toBe(0);
    expect((await jeton(["staff", "enable", "JT00000052"], local)).stdout).toBe("JT00000052 enabled\n");
    const emergency = JSON.parse((await jeton(["staff", "emergency", "hstaff", "--json"], local)).stdout);
    secretsUsed.push(emergency.password, pin + emergency.password);
    expect((await validate({ user: "hstaff", passcode: pin + emergency.password })).result).toBe("accept");
    expect((await jeton(["staff", "pin-reset", "hstaff"], local)).stdout).toMatch(/PIN reset/);
    const audit = JSON.parse((await jeton(["audit", "--user", "hstaff", "--json"], client())).stdout).entries as { event: string; result: string; actor: string }[];
    expect(audit.filter((entry) => entry.result === "refused").map((entry) => entry.event)).toEqual(["token.assign", "user.unlock"]);
    expect(audit.filter((entry) => entry.actor.startsWith("local:")).map((entry) => entry.event)).toEqual(["user.pin-reset", "emergency.issue", "token.enable", "token.assign", "user.unlock", "staff.add"]);
  });

  it("exits non-zero with a clear message: refused, unauthorised, unreachable, misconfigured, secrets on the command line", async () => {
    const missing = await jeton(["token", "show", "NOPE"], client());
    expect(missing).toMatchObject({ code: 1 });
    expect(missing.stderr).toMatch(/404 no token NOPE/);
    const unauthorised = await jeton(["user", "show", "jdupont"], { JETON_URL: server.url, JETON_API_KEY: "jeton_wrong" });
    expect(unauthorised.code).toBe(1);
    expect(unauthorised.stderr).toMatch(/401/);
    const unreachable = await jeton(["user", "show", "jdupont", "--json"], { JETON_URL: "http://127.0.0.1:9", JETON_API_KEY: helpdesk });
    expect(unreachable.code).toBe(3);
    expect(JSON.parse(unreachable.stdout).error).toMatch(/unreachable/);
    const noUrl = await jeton(["user", "show", "jdupont"], { JETON_API_KEY: helpdesk });
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toMatch(/JETON_URL/);
    const noSecret = await jeton(["token", "register", "JT00000043"], client());
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toMatch(/--secret-file\) or in JETON_TOKEN_SECRET/);
    expect((await jeton(["token", "register", "JT00000043", "--secret", "ABC"], client())).code).toBe(2);
  });

  it("refuses bad configuration at start-up, naming the variable", async () => {
    for (const [name, value] of [["PORT", "eighty"], ["JETON_TIMEZONE", "Mars/Olympus"], ["DATABASE_URL", "mysql://localhost/jeton"]]) {
      const result = await jeton(["serve"], { JETON_DATA_DIR: dataDir, [name!]: value });
      expect(result.code, name).not.toBe(0);
      expect(result.stderr).toContain(name);
    }
    const missingKey = await jeton(["serve"], { JETON_DATA_DIR: dataDir, JETON_MASTER_KEY_FILE: join(dataDir, "absent.key") });
    expect(missingKey.code).not.toBe(0);
    expect(missingKey.stderr).toMatch(/absent\.key/);
  });

  it("every command has --help", async () => {
    for (const command of [[], ["serve"], ["keys", "create"], ["token", "register"], ["user", "pin-reset"], ["emergency", "issue"], ["audit"], ["staff", "unlock"], ["staff", "assign"]]) {
      const help = await jeton([...command, "--help"], {});
      expect(help.code, command.join(" ")).toBe(0);
      expect(help.stdout).toMatch(/Usage: jeton/);
    }
  });

  it("the server printed no seed, PIN, passcode or emergency password", () => {
    for (const secret of secretsUsed) expect(server.output()).not.toContain(secret);
  });
});
