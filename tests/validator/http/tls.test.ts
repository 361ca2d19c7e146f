import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validatorClient } from "../../../provisioner/validator-client.js";
import { adminApi } from "../../../jeton/api-client.js";
import { isLoopback } from "../../../common/loopback.js";
import { serverTransport } from "../../../validator/http/transport.js";
import { jeton, startServe, type ServerProcess } from "../../support/cli.js";

describe("jeton serve over HTTPS, and plain HTTP only where it cannot be overheard", () => {
  let directory: string;
  let dataDir: string;
  let certificate: string;
  let key: string;
  let server: ServerProcess;
  let helpdesk: string;
  const seed = randomBytes(32);

  /** A self-signed certificate for 127.0.0.1, made by the openssl command line for this run only. */
  function selfSigned(name: string): { certificate: string; key: string } {
    const files = { certificate: join(directory, `${name}.crt`), key: join(directory, `${name}.key`) };
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
      "-subj", "/CN=jeton test", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-keyout", files.key, "-out", files.certificate,
    ], { stdio: "ignore" });
    return files;
  }

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), "jeton-tls-"));
    dataDir = join(directory, "data");
    ({ certificate, key } = selfSigned("server"));
    server = await startServe({ JETON_DATA_DIR: dataDir, JETON_TLS_CERT_FILE: certificate, JETON_TLS_KEY_FILE: key });
    helpdesk = JSON.parse((await jeton(["keys", "create", "--role", "helpdesk", "--json"], { JETON_DATA_DIR: dataDir })).stdout).key;
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(directory, { recursive: true, force: true });
  });

  it("serves HTTPS with the configured certificate; the CLI trusts it through JETON_CA_FILE", async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const client = { JETON_URL: server.url, JETON_API_KEY: helpdesk, JETON_CA_FILE: certificate };
    const registered = await jeton(["token", "register", "JT00000071", "--secret-encoding", "hex", "--json"], { ...client, JETON_TOKEN_SECRET: seed.toString("hex") });
    expect(registered.code, registered.stderr).toBe(0);
    const shown = await jeton(["token", "show", "JT00000071", "--json"], client);
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ serial: "JT00000071", status: "active" });
  });

  it("the provisioner's validator client reaches it the same way (health time and API)", async () => {
    const client = validatorClient(adminApi({ JETON_URL: server.url, JETON_API_KEY: helpdesk, JETON_CA_FILE: certificate }));
    await client.checkAccess();
    const time = await client.serverTime();
    expect(Math.abs(time!.unixMillis - Date.now())).toBeLessThan(60_000);
    expect(await client.findToken("JT00000071")).toMatchObject({ serial: "JT00000071" });
  });

  it("a client without the CA, or with another one, refuses the server and says what to set", async () => {
    const other = selfSigned("other");
    for (const environment of [{}, { JETON_CA_FILE: other.certificate }]) {
      const refused = await jeton(["user", "show", "jdupont"], { JETON_URL: server.url, JETON_API_KEY: helpdesk, ...environment });
      expect(refused.code).toBe(3);
      expect(refused.stderr).toMatch(/certificate this client does not trust .*JETON_CA_FILE/);
    }
    const unreadable = await jeton(["user", "show", "jdupont"], { JETON_URL: server.url, JETON_API_KEY: helpdesk, JETON_CA_FILE: join(directory, "absent.crt") });
    expect(unreadable.code).toBe(2);
    expect(unreadable.stderr).toMatch(/JETON_CA_FILE .*absent\.crt cannot be read/);
  });

  it("refuses half a TLS configuration and unreadable files, naming them", async () => {
    const certOnly = await jeton(["serve"], { JETON_DATA_DIR: dataDir, PORT: "0", JETON_TLS_CERT_FILE: certificate });
    expect(certOnly.code).not.toBe(0);
    expect(certOnly.stderr).toMatch(/JETON_TLS_CERT_FILE and JETON_TLS_KEY_FILE go together \(only JETON_TLS_CERT_FILE is set\)/);
    const missing = await jeton(["serve"], { JETON_DATA_DIR: dataDir, PORT: "0", JETON_TLS_CERT_FILE: certificate, JETON_TLS_KEY_FILE: join(directory, "absent.key") });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/JETON_TLS_KEY_FILE .*absent\.key cannot be read \(ENOENT\)/);
  });

  it("refuses plain HTTP on a non-loopback address unless told a TLS proxy is in front, and then warns", async () => {
    // Refused before anything listens: the test binds nothing outside loopback.
    const refused = await jeton(["serve"], { JETON_DATA_DIR: dataDir, PORT: "0", HOST: "0.0.0.0" });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/HOST=0\.0\.0\.0 is not a loopback address.*JETON_TLS_CERT_FILE and JETON_TLS_KEY_FILE.*JETON_ALLOW_PLAIN_HTTP=1/);
    const badFlag = await jeton(["serve"], { JETON_DATA_DIR: dataDir, PORT: "0", HOST: "0.0.0.0", JETON_ALLOW_PLAIN_HTTP: "yes" });
    expect(badFlag.stderr).toContain("JETON_ALLOW_PLAIN_HTTP");
    expect(serverTransport({ host: "0.0.0.0", allowPlainHttp: true }).warning).toMatch(/plain HTTP on 0\.0\.0\.0 \(JETON_ALLOW_PLAIN_HTTP=1\)/);
    expect(serverTransport({ host: "127.0.0.1", allowPlainHttp: false })).toEqual({});
    for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"]) expect(isLoopback(host), host).toBe(true);
    for (const host of ["0.0.0.0", "::", "10.0.0.5", "192.168.1.2", "example.org", "128.0.0.1"]) expect(isLoopback(host), host).toBe(false);
  });

  it("the CLI refuses to send its API key over plain HTTP to another machine, naming what to set", async () => {
    // Refused before any connection: nothing leaves loopback.
    const refused = await jeton(["user", "show", "jdupont"], { JETON_URL: "http://192.0.2.10:8080", JETON_API_KEY: helpdesk });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/JETON_URL http:\/\/192\.0\.2\.10:8080 is plain HTTP to another machine.*https:\/\/.*JETON_ALLOW_PLAIN_HTTP=1/);
    expect(refused.stderr).not.toContain(helpdesk);
  });
});
