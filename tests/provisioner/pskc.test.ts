// PSKC (RFC 6030): export at provisioning time (encrypted by default, checked by Debian's pskctool
// and by reading the seed back and comparing its fingerprint with the token's), re-encryption with
// `jeton pskc export`, and `jeton pskc import` of RFC 6030's own encrypted samples with both TOTP
// algorithm URIs — bad MAC, unknown algorithm and wrong password refused with nothing imported.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { secretFingerprint } from "../../hardware/sim/token-protocol.js";
import { startTokenSim, type TokenSim } from "../../hardware/sim/token-sim.js";
import { readPskc } from "../../provisioner/pskc/read.js";
import { codeAt, stepAt } from "../../validator/policy/totp.js";
import { jeton } from "../support/cli.js";
import { startValidator, testDatabase, type RunningValidator } from "../support/test-validator.js";
import { FollowingClock } from "./support/following-clock.js";
import { ensurePskctool, pskctoolInfo, pskctoolValidate } from "./support/pskctool.js";
import { RFC6030_PASSWORD, RFC6030_PRE_SHARED_KEY_HEX, RFC6030_SECRET, rfc6030PasswordFile, rfc6030PreSharedKeyFile } from "./support/rfc6030-samples.js";

const pskctool = ensurePskctool();
if (!pskctool.available) console.warn(`pskctool checks SKIPPED: ${pskctool.reason}`);
const TOTP = "urn:ietf:params:xml:ns:keyprov:pskc:totp";
const TOTP_HASH = "urn:ietf:params:xml:ns:keyprov:pskc#totp";
const HOTP = "urn:ietf:params:xml:ns:keyprov:pskc:hotp";

describe("PSKC", () => {
  let dir: string;
  let validator: RunningValidator;
  let database: Awaited<ReturnType<typeof testDatabase>>;
  let env: NodeJS.ProcessEnv;
  const clock = new FollowingClock();
  const file = (name: string, content?: string) => {
    const path = join(dir, name);
    if (content !== undefined) writeFileSync(path, content, { mode: 0o600 });
    return path;
  };
  const status = async (serial: string) => (await validator.request("GET", `/v1/tokens/${serial}`)).status;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "jeton-pskc-"));
    database = await testDatabase("sqlite");
    validator = await startValidator(database.location, { clock });
    env = { JETON_URL: validator.url, JETON_API_KEY: validator.keys.helpdesk };
  });
  afterAll(async () => {
    await validator?.close();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe("import", () => {
    test("RFC 6030's PBKDF2 sample with both TOTP URIs: imported unassigned, with interval, digits and algorithm", async () => {
      const sample = file("rfc-password.pskc", rfc6030PasswordFile([TOTP, TOTP_HASH]));
      const result = await jeton(["pskc", "import", sample, "--json"], { ...env, JETON_PSKC_PASSWORD: RFC6030_PASSWORD });
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout).imported.map((t: { serial: string }) => t.serial)).toEqual(["987654321", "987654322"]);
      for (const serial of ["987654321", "987654322"]) {
        const token = (await validator.request("GET", `/v1/tokens/${serial}`)).json;
        expect(token).toMatchObject({ serial, user: null, algorithm: "SHA1", digits: 8, period: 60, status: "active" });
      }
      // the secret is the RFC's: once assigned, the code it computes opens the first login
      expect((await validator.request("POST", "/v1/tokens/987654321/assign", { user: "pskcuser" })).status).toBe(200);
      const parameters = { algorithm: "SHA1" as const, digits: 8, period: 60, t0: 0 };
      const code = codeAt(RFC6030_SECRET, stepAt(clock.now(), parameters), parameters);
      const login = await validator.request("POST", "/v1/validate", { user: "pskcuser", passcode: code }, "portal");
      expect(login.json).toMatchObject({ result: "challenge", challenge: { kind: "new-pin" } });
      expect(result.stdout).not.toContain(RFC6030_SECRET.toString("base64"));
    });

    test("RFC 6030's pre-shared-key sample with a key file", async () => {
      const sample = file("rfc-psk.pskc", rfc6030PreSharedKeyFile(TOTP_HASH));
      const key = file("psk.hex", `${RFC6030_PRE_SHARED_KEY_HEX}\n`);
      const result = await jeton(["pskc", "import", sample, "--key-file", key], env);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/imported 1 token\(s\), unassigned/);
      expect(result.stdout).toMatch(/987654330 {2}SHA1 8 digits \/ 60 s {2}\(file suggests user jdupont\)/);
      expect((await validator.request("GET", "/v1/tokens/987654330")).json.user).toBeNull();
    });

    test("a bad MAC, an unknown algorithm or a wrong password: refused, nothing imported", async () => {
      const badMac = file("bad-mac.pskc", rfc6030PasswordFile([TOTP], "AP6xMvjtypbfT9PdkJhBZ+D6O4w=").replace(/98765432/g, "11111111"));
      const refusedMac = await jeton(["pskc", "import", badMac], { ...env, JETON_PSKC_PASSWORD: RFC6030_PASSWORD });
      expect(refusedMac.code).toBe(1);
      expect(refusedMac.stderr).toMatch(/refused \(nothing imported\): key 111111111: bad MAC/);
      expect(await status("111111111")).toBe(404);

      const mixed = file("hotp.pskc", rfc6030PasswordFile([TOTP, HOTP]).replace(/98765432/g, "22222222"));
      const refusedAlgorithm = await jeton(["pskc", "import", mixed], { ...env, JETON_PSKC_PASSWORD: RFC6030_PASSWORD });
      expect(refusedAlgorithm.code).toBe(1);
      expect(refusedAlgorithm.stderr).toMatch(/key 222222222: unknown algorithm "urn:ietf:params:xml:ns:keyprov:pskc:hotp"/);
      expect(await status("222222221")).toBe(404); // the good key of the same file is not imported either

      const wrongPassword = await jeton(["pskc", "import", mixed], { ...env, JETON_PSKC_PASSWORD: "qwertz" });
      expect(wrongPassword.code).toBe(1);
      expect(wrongPassword.stderr).toMatch(/wrong password or key|bad MAC/);

      const noPassword = await jeton(["pskc", "import", mixed], env);
      expect(noPassword.code).toBe(1);
      expect(noPassword.stderr).toMatch(/encrypted with a password: give --password-file/);

      const again = await jeton(["pskc", "import", file("rfc-password.pskc")], { ...env, JETON_PSKC_PASSWORD: RFC6030_PASSWORD });
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/nothing imported: serial 987654321 is already registered; serial 987654322 is already registered/);

      const notXml = await jeton(["pskc", "import", file("junk.pskc", "<KeyContainer><oops></KeyContainer>")], env);
      expect(notXml.code).toBe(1);
      expect(notXml.stderr).toMatch(/not a well-formed XML file/);
    });
  });

  describe("export at provisioning time", () => {
    let sim: TokenSim;
    beforeAll(async () => {
      sim = await startTokenSim();
    });
    afterAll(async () => {
      await sim?.close();
    });

    test("provision --pskc-out writes an encrypted PSKC file pskctool accepts, holding the seed the token holds", async () => {
      const out = file("issued.pskc");
      const password = file("export.password", "correct horse battery staple\n");
      const refused = await jeton(["provision", "--tcp", String(sim.hub.port), "--user", "jdupont", "--pskc-out", out], env);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/a PSKC export is encrypted: give --password-file or --key-file/);
      expect(await sim.token.provisioned()).toBe(false);

      const result = await jeton(["provision", "--tcp", String(sim.hub.port), "--user", "jdupont", "--pskc-out", out, "--pskc-password-file", password, "--json"], env);
      expect(result.code).toBe(0);
      expect(result.stderr).toMatch(/PSKC: 1 key\(s\) in .*issued\.pskc \(encrypted, password\)/);
      const serial = JSON.parse(result.stdout).serial as string;
      expect(statSync(out).mode & 0o777).toBe(0o600);
      const xml = readFileSync(out, "utf8");
      expect(xml).not.toMatch(/PlainValue>[A-Za-z0-9+/=]{40,}/);
      const [key] = readPskc(xml, { kind: "password", password: Buffer.from("correct horse battery staple") });
      expect(key).toMatchObject({ serial, user: "jdupont", algorithm: "SHA256", digits: 6, period: 60 });
      expect(secretFingerprint(key!.seed, serial).equals(await sim.token.secretFingerprint())).toBe(true);
      if (pskctool.available) {
        const verdict = pskctoolValidate(out);
        expect(verdict.ok, verdict.output).toBe(true);
        expect(pskctoolInfo(out)).toContain(`SerialNo: ${serial}`);
      }

      // re-encrypt for a recipient with a pre-shared key, and in plaintext with the explicit flag
      const psk = file("recipient.key", "000102030405060708090a0b0c0d0e0f\n");
      const forRecipient = file("recipient.pskc");
      const reencrypted = await jeton(["pskc", "export", out, "--out", forRecipient, "--password-file", password, "--to-key-file", psk], env);
      expect(reencrypted.code).toBe(0);
      expect(reencrypted.stdout).toMatch(/1 key\(s\) written to .*recipient\.pskc \(encrypted, pre-shared-key\)/);
      const clear = file("clear.pskc");
      const noFlag = await jeton(["pskc", "export", out, "--out", clear, "--password-file", password], env);
      expect(noFlag.code).toBe(2);
      const plaintext = await jeton(["pskc", "export", forRecipient, "--out", clear, "--key-file", psk, "--to-plaintext"], env);
      expect(plaintext.code).toBe(0);
      expect(readFileSync(clear, "utf8")).toContain(`<PlainValue>${Buffer.from(key!.seed).toString("base64")}</PlainValue>`);
      if (pskctool.available) {
        for (const exported of [forRecipient, clear]) {
          const verdict = pskctoolValidate(exported);
          expect(verdict.ok, `${exported}: ${verdict.output}`).toBe(true);
        }
      }

      // the recipient (another validator) imports it: unassigned, then the code on the display works there
      const otherDatabase = await testDatabase("sqlite");
      const other = await startValidator(otherDatabase.location, { clock });
      try {
        const imported = await jeton(["pskc", "import", forRecipient, "--key-file", psk], { JETON_URL: other.url, JETON_API_KEY: other.keys.helpdesk });
        expect(imported.code).toBe(0);
        expect((await other.request("GET", `/v1/tokens/${serial}`)).json).toMatchObject({ user: null, algorithm: "SHA256", period: 60, digits: 6 });
        await other.request("POST", `/v1/tokens/${serial}/assign`, { user: "jdupont" });
        const shown = (await sim.token.screenText()).split("\n")[1]!.replace(" ", "");
        expect((await other.request("POST", "/v1/validate", { user: "jdupont", passcode: shown }, "portal")).json.result).toBe("challenge");
      } finally {
        await other.close();
        await otherDatabase.drop();
      }
    });

    test.skipIf(!pskctool.available)("pskctool itself rejects a file that breaks the schema (the check can fail)", () => {
      const broken = file("broken.pskc", readFileSync(file("recipient.pskc"), "utf8").replace("<Suite>", "<Suites>").replace("</Suite>", "</Suites>"));
      expect(pskctoolValidate(broken).ok).toBe(false);
    });
  });
});
