// Logs and metrics of `jeton serve`, as an operator sees them: JSON lines on stdout and GET /metrics.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createLogger } from "../../../validator/observability/logger.js";
import { jeton, jetonBin, startServe, type ServerProcess } from "../../support/cli.js";
import { referenceCode, referenceStep } from "../../support/reference-totp.js";
import { rememberSecret } from "../../support/secret-registry.js";
import { startValidator, testDatabase } from "../../support/test-validator.js";

/** Polls `condition` (no fixed sleep) for at most 20 s. */
async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  for (const deadline = Date.now() + 20_000; !(await condition()); ) {
    if (Date.now() > deadline) throw new Error("condition not met within 20 s");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** The value of one sample (`name{labels} value`), 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split("\n").find((candidate) => candidate.startsWith(series + " "));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe("jeton serve: logs and metrics", () => {
  let dataDir: string;
  let server: ServerProcess;
  let metricsUrl: string;
  const keys: Record<string, string> = {};
  const seed = randomBytes(32);
  const pin = "583920";

  const call = async (method: string, path: string, role: string, body?: unknown) => {
    const response = await fetch(server.url + path, {
      method,
      headers: { authorization: `Bearer ${keys[role]}`, ...(body !== undefined && { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, text: await response.text() };
  };
  const validate = async (body: Record<string, string>) => JSON.parse((await call("POST", "/v1/validate", "portal", body)).text);
  const scrape = async (url = `${server.url}/metrics`, role: string | null = "metrics") => {
    const response = await fetch(url, { headers: role ? { authorization: `Bearer ${keys[role]}` } : {} });
    return { status: response.status, type: response.headers.get("content-type"), text: await response.text() };
  };
  const logLines = () =>
    server
      .output()
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  beforeAll(async () => {
    dataDir = join(mkdtempSync(join(tmpdir(), "jeton-observability-")), "data");
    server = await startServe({ JETON_DATA_DIR: dataDir, JETON_METRICS_PORT: "0" });
    metricsUrl = /"metrics":"(http:[^"]+)"/.exec(server.output())![1]!;
    for (const role of ["helpdesk", "portal", "metrics"]) {
      const created = await jeton(["keys", "create", "--role", role, "--json"], { JETON_DATA_DIR: dataDir });
      keys[role] = JSON.parse(created.stdout).key;
      rememberSecret(keys[role]);
    }
    rememberSecret(seed.toString("hex"));
    rememberSecret(pin);
    expect((await call("POST", "/v1/tokens", "helpdesk", { serial: "JT00000042", secretHex: seed.toString("hex") })).status).toBe(201);
    expect((await call("POST", "/v1/tokens/JT00000042/assign", "helpdesk", { user: "jdupont" })).status).toBe(200);
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(join(dataDir, ".."), { recursive: true, force: true });
  });

  test("counters move with the validations made, and /metrics needs the metrics role on the main listener", async () => {
    const before = (await scrape()).text;
    const code = referenceCode(seed, referenceStep(Date.now()));
    rememberSecret(code);
    expect((await validate({ user: "nobody", passcode: "123456" })).result).toBe("reject");
    const opened = await validate({ user: "jdupont", passcode: code });
    expect(opened.result).toBe("challenge");
    expect((await validate({ user: "jdupont", challenge: opened.challenge.id, response: pin })).result).toBe("accept");
    expect((await validate({ user: "jdupont", passcode: pin + code })).result).toBe("reject"); // the same step again

    const after = await scrape();
    expect(after.status).toBe(200);
    expect(after.type).toMatch(/^text\/plain; version=0\.0\.4/);
    const moved = (series: string) => sample(after.text, series) - sample(before, series);
    // An unknown user and a replayed code are one reason here, as for the caller (the audit tells them apart).
    expect(moved('jeton_validations_total{front_door="http",result="reject",reason="credentials"}')).toBe(2);
    expect(after.text).not.toMatch(/reason="(unknown-user|bad-passcode|locked|throttled)"/);
    expect(moved('jeton_validations_total{front_door="http",result="challenge",reason=""}')).toBe(1);
    expect(moved('jeton_validations_total{front_door="http",result="accept",reason=""}')).toBe(1);
    expect(moved('jeton_challenges_opened_total{kind="new-pin"}')).toBe(1);
    expect(moved('jeton_validation_duration_seconds_count{front_door="http"}')).toBe(4);
    expect(moved("jeton_db_group_commit_batch_size_count")).toBeGreaterThanOrEqual(4);
    expect(after.text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(after.text).toMatch(/^jeton_users_locked_total 0$/m);
    expect(after.text).not.toContain("jdupont");

    expect((await scrape(undefined, null)).status).toBe(401);
    expect((await scrape(undefined, "portal")).status).toBe(403);
  });

  test("the separate metrics listener answers without a key, and only /metrics", async () => {
    const open = await scrape(metricsUrl, null);
    expect(open.status).toBe(200);
    expect(sample(open.text, 'jeton_validations_total{front_door="http",result="accept",reason=""}')).toBeGreaterThanOrEqual(1);
    expect((await fetch(metricsUrl.replace(/\/metrics$/, "/v1/openapi.json"))).status).toBe(404);
  });

  test("one JSON line per event: start-up, requests by route pattern with id and actor, validation decisions", async () => {
    expect((await call("GET", "/v1/users/jdupont", "helpdesk")).status).toBe(200);
    // a request's line is written once its answer has gone out: wait for it
    await until(() => logLines().some((line) => line.route === "/v1/users/:user"));
    const lines = logLines();
    expect(lines.find((line) => line.event === "start")).toMatchObject({ level: 30, listening: server.url, database: expect.stringMatching(/^SQLite /) });

    const requests = lines.filter((line) => line.event === "request");
    const userLookup = requests.find((line) => line.route === "/v1/users/:user");
    expect(userLookup).toMatchObject({ method: "GET", status: 200, reqId: expect.any(String), actor: expect.stringMatching(/^key:[0-9a-f]{12}$/) });
    expect(typeof userLookup!.durationMs).toBe("number");
    expect(requests.filter((line) => line.route === "/v1/validate")).toHaveLength(4);
    // the route pattern, never the raw URL with a user or serial in it
    expect(server.output()).not.toContain("/v1/users/jdupont");
    expect(server.output()).not.toContain("/v1/tokens/JT00000042");

    const validations = lines.filter((line) => line.event === "validation");
    expect(validations.map((line) => [line.frontDoor, line.result, line.reason ?? line.kind ?? line.via])).toEqual([
      ["http", "reject", "unknown-user"],
      ["http", "challenge", "new-pin"],
      ["http", "accept", "token"],
      ["http", "reject", "bad-passcode"],
    ]);
    expect(validations[0]).not.toHaveProperty("user");
    expect(server.output()).not.toContain("nobody");
    expect(validations.slice(1).every((line) => line.user === "jdupont")).toBe(true);
    // the validation line and its request line share the request id
    const validateRequests = requests.filter((line) => line.route === "/v1/validate").map((line) => line.reqId);
    expect(validations.map((line) => line.reqId)).toEqual(validateRequests);
  });

  test("JETON_LOG_LEVEL: warn keeps info lines out; an unknown level is refused naming the variable", async () => {
    const quietDir = join(dataDir, "..", "quiet");
    const port = await freePort();
    const quiet = spawn(process.execPath, [jetonBin, "serve"], {
      env: { PATH: process.env.PATH, JETON_DATA_DIR: quietDir, PORT: String(port), JETON_LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    quiet.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    try {
      // the first start warns that it created the master key: the one line written at warn
      await until(() => output.includes("master-key-created"));
      await until(async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined))?.status === 200);
      expect(output.trim().split("\n")).toHaveLength(1);
      expect(JSON.parse(output)).toMatchObject({ level: 40, event: "master-key-created" });
    } finally {
      quiet.kill("SIGTERM");
      await new Promise((resolve) => quiet.once("exit", resolve));
    }
    const refused = await jeton(["serve"], { JETON_DATA_DIR: quietDir, JETON_LOG_LEVEL: "loud" });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/JETON_LOG_LEVEL: must be one of debug, info, warn, error, silent/);
  });
});

describe("log redaction and the lock counter", () => {
  test("secret fields are redacted at the top level, in request parts and in a whole request", () => {
    const written: string[] = [];
    const log = createLogger("info", { write: (line: string) => written.push(line) });
    log.info(
      { passcode: "111111222222", headers: { authorization: "Bearer jeton_x" }, body: { pin: "583920", secret: "JBSWY3DP", password: "Aa1!Aa1!Aa", response: "654321", challenge: "0b1c7a52-challenge-id", fingerprint: "9f86d081884c7d65" }, key: "jeton_y" },
      "hostile call",
    );
    log.info({ request: { body: { passcode: "333333444444" }, headers: { authorization: "Bearer jeton_z" } }, err: { secret: "MZXW6YTB" } }, "a whole request");
    const line = written.join("");
    for (const secret of ["111111222222", "jeton_x", "583920", "JBSWY3DP", "Aa1!Aa1!Aa", "654321", "0b1c7a52-challenge-id", "9f86d081884c7d65", "jeton_y", "333333444444", "jeton_z", "MZXW6YTB"]) {
      expect(line).not.toContain(secret);
    }
    expect(JSON.parse(written[0]!)).toMatchObject({ passcode: "[redacted]", headers: { authorization: "[redacted]" }, body: { pin: "[redacted]" } });
  });

  test("locking a user counts once", async () => {
    const database = await testDatabase("sqlite");
    const validator = await startValidator(database.location);
    try {
      const seed = randomBytes(32);
      await validator.request("POST", "/v1/tokens", { serial: "JT00000043", secretHex: seed.toString("hex") });
      await validator.request("POST", "/v1/tokens/JT00000043/assign", { user: "mlocked" });
      for (let attempt = 0; attempt < 12; attempt++) {
        await validator.request("POST", "/v1/validate", { user: "mlocked", passcode: "000000" }, "portal");
        validator.clock.advance(600); // past any throttle, so every attempt counts
      }
      const scraped = await validator.request("GET", "/metrics", undefined, "metrics");
      expect(scraped.status).toBe(200);
      expect(sample(scraped.text, "jeton_users_locked_total")).toBe(1);
      expect(sample(scraped.text, 'jeton_validations_total{front_door="http",result="reject",reason="credentials"}')).toBe(12);
    } finally {
      await validator.close();
      await database.drop();
    }
  });
});
