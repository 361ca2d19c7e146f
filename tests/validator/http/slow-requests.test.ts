// An attacker review held connections open for ever with request bodies that never finish (no key needed
// at the console's sign-in), until the process had no file descriptor left and answered nobody.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { buildHttpServer, buildMetricsServer, REQUEST_TIMEOUT_MS } from "../../../validator/http/server.js";
import { startValidator, testDatabase, type RunningValidator } from "../../support/test-validator.js";

const REQUEST_TIMEOUT_FOR_TEST_MS = 1_000;

/** Sends `head` (and the start of a body) on a new connection; resolves with what came back once the server closed it. */
function stalledRequest(port: number, head: string): Promise<{ answer: string; closedAfterMs: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    let answer = "";
    const socket = net.connect(port, "127.0.0.1", () => socket.write(head));
    socket.setEncoding("utf8");
    socket.on("data", (chunk) => (answer += chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve({ answer, closedAfterMs: Date.now() - started }));
    // Far beyond the timeout under test: the test fails rather than hangs if nothing closes it.
    setTimeout(() => socket.destroy(new Error("the server still holds the request after 20 s")), 20_000).unref();
  });
}

describe("requests that never finish", () => {
  let database: Awaited<ReturnType<typeof testDatabase>>;
  let validator: RunningValidator;
  let port: number;
  beforeAll(async () => {
    database = await testDatabase("sqlite");
    validator = await startValidator(database.location, { requestTimeoutMs: REQUEST_TIMEOUT_FOR_TEST_MS });
    port = Number(new URL(validator.url).port);
  });
  afterAll(async () => {
    await validator?.close();
    await database?.drop();
  });

  test("a body that stops coming is answered 408 and its connection closed; the server goes on answering", async () => {
    const signIn = "POST /console/sign-in HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nuser=";
    const validate = `POST /v1/validate HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${validator.keys.portal}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"user":`;
    const stalled = await Promise.all([signIn, validate, signIn].map((head) => stalledRequest(port, head)));
    for (const { answer, closedAfterMs } of stalled) {
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(closedAfterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_FOR_TEST_MS - 100);
    }
    expect((await fetch(`${validator.url}/health`)).status).toBe(200);
  });

  test("headers that stop coming are answered 408 too", async () => {
    const { answer } = await stalledRequest(port, "GET /health HTTP/1.1\r\nHost: local");
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  test("over HTTPS, a connection that never starts its TLS handshake is closed within the same time", async () => {
    const directory = mkdtempSync(join(tmpdir(), "jeton-slow-tls-"));
    try {
      execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-days", "1", "-keyout", join(directory, "key.pem"), "-out", join(directory, "cert.pem")], { stdio: "ignore" });
      const tls = { cert: readFileSync(join(directory, "cert.pem")), key: readFileSync(join(directory, "key.pem")) };
      const app = buildHttpServer(validator.ctx, { version: "test", tls, requestTimeoutMs: REQUEST_TIMEOUT_FOR_TEST_MS });
      await app.listen({ port: 0, host: "127.0.0.1" });
      try {
        // Node's own handshake timeout is 120 s: the stalled request helper's 20 s guard would fail the test.
        const { closedAfterMs } = await stalledRequest((app.server.address() as net.AddressInfo).port, "");
        expect(closedAfterMs).toBeLessThan(4 * REQUEST_TIMEOUT_FOR_TEST_MS);
      } finally {
        await app.close();
      }
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  test("by default a whole request must arrive within REQUEST_TIMEOUT_MS, at the API as at the metrics listener", () => {
    expect(REQUEST_TIMEOUT_MS).toBeGreaterThan(0);
    for (const app of [buildHttpServer(validator.ctx, { version: "test" }), buildMetricsServer(validator.ctx, {})]) {
      expect(app.server.requestTimeout).toBe(REQUEST_TIMEOUT_MS);
      expect(app.server.headersTimeout).toBe(REQUEST_TIMEOUT_MS);
    }
  });
});
