import { randomBytes } from "node:crypto";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addRadiusClient } from "../../../validator/operations/radius-clients.js";
import { startRadiusServer, type RadiusServer } from "../../../validator/radius/server.js";
import { referenceCode, referenceStep } from "../../support/reference-totp.js";
import { rememberSecret } from "../../support/secret-registry.js";
import { startValidator, testDatabase, type RunningValidator } from "../../support/test-validator.js";

const pamtester = "/usr/bin/pamtester";
const pamModule = ["/lib/x86_64-linux-gnu/security/pam_radius_auth.so", "/usr/lib/x86_64-linux-gnu/security/pam_radius_auth.so", "/lib/security/pam_radius_auth.so"].find(existsSync);
/** PAM reads services only from /etc/pam.d: the test writes a uniquely named one there and removes it. */
const canWritePamConfig = (() => {
  try {
    const probe = join("/etc/pam.d", `.jeton-probe-${process.pid}`);
    writeFileSync(probe, "");
    rmSync(probe);
    return true;
  } catch {
    return false;
  }
})();
const missing = [
  !existsSync(pamtester) && "pamtester (Debian package pamtester)",
  !pamModule && "pam_radius_auth.so (Debian package libpam-radius-auth)",
  !canWritePamConfig && "write access to /etc/pam.d",
].filter(Boolean);
if (missing.length > 0) console.warn(`RADIUS PAM test skipped: missing ${missing.join(", ")}`);

describe.skipIf(missing.length > 0)("SSH-style login through pam_radius_auth (pamtester)", () => {
  let v: RunningValidator;
  let radius: RadiusServer;
  let drop: () => Promise<void>;
  let directory: string;
  const service = `jeton-radius-test-${randomBytes(4).toString("hex")}`;
  const serviceFile = join("/etc/pam.d", service);

  beforeAll(async () => {
    const database = await testDatabase("sqlite");
    drop = database.drop;
    v = await startValidator(database.location);
    // Debian 12's pam_radius 2.0 sends no Message-Authenticator: the client is marked so.
    const { secret } = await addRadiusClient(v.ctx, { id: "test", role: "operator", source: "test" }, {
      name: "ssh-bastion",
      address: "127.0.0.1",
      requireMessageAuthenticator: false,
      language: "en",
      prompts: {},
    });
    radius = await startRadiusServer(v.ctx, { port: 0, host: "127.0.0.1" });
    directory = mkdtempSync(join(tmpdir(), "jeton-pam-"));
    const serverFile = join(directory, "server");
    writeFileSync(serverFile, `127.0.0.1:${radius.address.port} ${secret} 3\n`, { mode: 0o600 });
    writeFileSync(serviceFile, `auth required ${pamModule} conf=${serverFile} client_id=ssh-bastion\naccount required pam_permit.so\n`);
  });
  afterAll(async () => {
    rmSync(serviceFile, { force: true });
    if (directory) rmSync(directory, { recursive: true, force: true });
    await radius?.close();
    await v?.close();
    await drop?.();
  });

  function pamAuthenticate(user: string, answers: string[]): Promise<{ code: number; output: string }> {
    return new Promise((resolve) => {
      const child = execFile(pamtester, ["-v", service, user, "authenticate"], { timeout: 30_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
      );
      child.stdin?.end(answers.map((answer) => answer + "\n").join(""));
    });
  }

  it("first use: the code, then the new PIN asked by the Access-Challenge's Reply-Message, then PIN + code", async () => {
    const seed = randomBytes(32);
    expect((await v.request("POST", "/v1/tokens", { serial: "PAM-1", secretHex: seed.toString("hex") })).status).toBe(201);
    expect((await v.request("POST", "/v1/tokens/PAM-1/assign", { user: "mmartin" })).status).toBe(200);
    const code = () => referenceCode(seed, referenceStep(v.clock.millis));
    const pin = "731846";
    rememberSecret(pin + code());

    const firstUse = await pamAuthenticate("mmartin", [code(), pin]);
    expect(firstUse.output).toContain("Choose a new PIN of 6 to 12 digits.");
    expect(firstUse.output).toContain("successfully authenticated");
    expect(firstUse.code).toBe(0);

    v.clock.advance(60);
    rememberSecret(pin + code());
    const next = await pamAuthenticate("mmartin", [pin + code()]);
    expect(next.code).toBe(0);
    v.clock.advance(60);
    const wrong = await pamAuthenticate("mmartin", ["000000" + code()]);
    expect(wrong.code).not.toBe(0);

    const audit = await v.ctx.database.db.selectFrom("audit_log").selectAll().where("actor", "=", "radius:ssh-bastion").orderBy("id").execute();
    expect(audit.map((entry) => entry.result)).toEqual(["challenge", "accept", "accept", "reject"]);
    expect(JSON.parse(audit[0]!.detail!)).toMatchObject({ nasIdentifier: "ssh-bastion" });
  });
});
