// In a batch, a row whose token was registered but whose assignment the validator refused (a help-desk
// colleague's account: `jeton staff assign` is the operator's) is journalled as "registered"; once the
// operator has assigned the token, the next run finishes the row without another token. An attacker
// review (2026-12-03) found it journalled as "failed", so the next run asked for a new blank token.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { addStaff } from "../../validator/operations/staff.js";
import { assignToken } from "../../validator/operations/tokens.js";
import { jeton } from "../support/cli.js";
import { startValidator, testDatabase, type RunningValidator } from "../support/test-validator.js";
import { FollowingClock } from "./support/following-clock.js";
import { startTokenBench, type TokenBench } from "./support/token-bench.js";

const operator = { id: "local:test", role: "operator", source: "cli" };

describe("a batch row refused at assignment", () => {
  let dir: string;
  let bench: TokenBench;
  let validator: RunningValidator;
  let database: Awaited<ReturnType<typeof testDatabase>>;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "jeton-review-batch-"));
    database = await testDatabase("sqlite");
    validator = await startValidator(database.location, { clock: new FollowingClock() });
    bench = await startTokenBench();
    env = { JETON_URL: validator.url, JETON_API_KEY: validator.keys.helpdesk };
  });
  afterAll(async () => {
    await bench?.close();
    await validator?.close();
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("the next run finishes the row once the operator assigned its registered token", async () => {
    // a help-desk colleague (staff hold a token of their own)
    expect((await validator.request("POST", "/v1/tokens", { serial: "JT00000949", secretHex: "55".repeat(32) })).status).toBe(201);
    expect((await validator.request("POST", "/v1/tokens/JT00000949/assign", { user: "hdesk" })).status).toBe(200);
    await addStaff(validator.ctx, operator, "hdesk", "helpdesk");
    const csv = join(dir, "staff.csv");
    writeFileSync(csv, "user,serial\nhdesk,JT00000950\n");
    const plugged = await bench.plug();

    const first = await jeton(["batch", csv, "--tcp", String(bench.hub.port), "--json", "--wait", "20"], env);
    expect(first.code).toBe(1);
    expect(JSON.parse(first.stdout)).toMatchObject({ done: 0, failed: 1 });
    // the token was written and registered; only the assignment was refused
    expect((await validator.request("GET", "/v1/tokens/JT00000950")).json).toMatchObject({ serial: "JT00000950", user: null });
    expect(await plugged.token.serial()).toBe("JT00000950");

    // the operator does what the message says
    await assignToken(validator.ctx, operator, "JT00000950", "hdesk");

    const second = await jeton(["batch", csv, "--tcp", String(bench.hub.port), "--json", "--wait", "3"], env);
    const summary = JSON.parse(second.stdout || "{}");
    expect(summary.rows?.[0], `second run: ${second.stderr.split("\n").slice(-4).join(" | ")}`).toMatchObject({ result: "done-earlier", serial: "JT00000950" });
    expect(second.code).toBe(0);
    await plugged.unplug();
  });
});
