// `jeton batch` with VM tokens plugged in one after another: malformed CSV rows reported with their
// line numbers while the others go ahead, a refused row that does not stop the batch, a crash
// (SIGKILL) after the first token and a second run that resumes where the first stopped, the PSKC
// export carried across both runs, and a summary at the end.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { secretFingerprint, TokenResult } from "../../common/token-service/token-protocol.js";
import { BatchJournal } from "../../provisioner/batch-journal.js";
import { readPskc } from "../../provisioner/pskc/read.js";
import { addStaff } from "../../validator/operations/staff.js";
import { assignToken } from "../../validator/operations/tokens.js";
import { jeton } from "../support/cli.js";
import { startValidator, testDatabase, type RunningValidator } from "../support/test-validator.js";
import { startCli } from "./support/cli-process.js";
import { FollowingClock } from "./support/following-clock.js";
import { ensurePskctool, pskctoolValidate } from "./support/pskctool.js";
import { startTokenBench, type PluggedToken, type TokenBench } from "./support/token-bench.js";

const operator = { id: "local:test", role: "operator", source: "cli" };

const CSV = `# autumn term
user,serial
jdupont
bad user
mmartin,JT00000501
lbernard,XX1
pdurand,JT00000502,extra
ablanc,JT00000599
lbernard
`;

describe("jeton batch", () => {
  let dir: string;
  let bench: TokenBench;
  let validator: RunningValidator;
  let database: Awaited<ReturnType<typeof testDatabase>>;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "jeton-batch-"));
    database = await testDatabase("sqlite");
    validator = await startValidator(database.location, { clock: new FollowingClock() });
    bench = await startTokenBench();
    env = { JETON_URL: validator.url, JETON_API_KEY: validator.keys.helpdesk, JETON_PSKC_PASSWORD: "batch export password" };
  });
  afterAll(async () => {
    await bench?.close();
    await validator?.close();
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("a CSV with no valid row, or no file, changes nothing (exit 2)", async () => {
    const empty = join(dir, "empty.csv");
    writeFileSync(empty, "user\nbad user\n");
    const result = await jeton(["batch", empty, "--tcp", String(bench.hub.port)], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no valid row in .*empty\.csv \(line 2: "bad user" is not an academic identifier/);
    const missing = await jeton(["batch", join(dir, "nope.csv"), "--tcp", String(bench.hub.port)], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/CSV file .*nope\.csv does not exist/);
  });

  test("rows cut off mid-write: finished if registered, otherwise the token is wiped (button) and provisioned again", async () => {
    const csv = join(dir, "cut.csv");
    const content = "jdupont2\nmmartin2\nhdesk\n";
    writeFileSync(csv, content);
    // the journal as a run killed mid-write left it: every row "writing", none "done"
    const journal = BatchJournal.open(`${csv}.journal`, content);
    journal.append({ type: "row", line: 1, user: "jdupont2", state: "writing", serial: "JT00000901", at: new Date().toISOString() });
    journal.append({ type: "row", line: 2, user: "mmartin2", state: "writing", serial: "JT00000902", at: new Date().toISOString() });
    journal.append({ type: "row", line: 3, user: "hdesk", state: "writing", serial: "JT00000903", at: new Date().toISOString() });
    // rows 1 and 3 had their tokens registered before the crash (not yet assigned); row 2's token holds a seed nobody knows
    expect((await validator.request("POST", "/v1/tokens", { serial: "JT00000901", secretHex: "33".repeat(32) })).status).toBe(201);
    expect((await validator.request("POST", "/v1/tokens", { serial: "JT00000903", secretHex: "44".repeat(32) })).status).toBe(201);
    // row 3 names a help-desk colleague: the batch's help-desk key may not assign them a token
    expect((await validator.request("POST", "/v1/tokens", { serial: "JT00000904", secretHex: "55".repeat(32) })).status).toBe(201);
    expect((await validator.request("POST", "/v1/tokens/JT00000904/assign", { user: "hdesk" })).status).toBe(200);
    await addStaff(validator.ctx, operator, "hdesk", "helpdesk");
    const plugged = await bench.plug();
    const orphanSeed = randomBytes(32);
    expect(await plugged.token.provision({ time: Math.floor(Date.now() / 1000), algorithm: "SHA256", serial: "JT00000902", seed: orphanSeed })).toBe(TokenResult.Ok);

    const run = startCli(["batch", csv, "--tcp", String(bench.hub.port), "--json"], env);
    await run.waitForLine(/line 1: token JT00000901 was registered by an earlier run; now assigned to jdupont2/);
    await run.waitForLine(/line 2: the earlier run stopped while writing token JT00000902; it is not registered/);
    await run.waitForLine(/line 3: FAILED — token JT00000903 is registered, but assigning it to hdesk was refused: 403 .*jeton staff assign/);
    await run.waitForLine(/token JT00000902 holds the seed of an interrupted write: press its button to wipe it/);
    await plugged.token.waitForScreen((s) => s.startsWith("Press button to\nwipe"), 15_000);
    await bench.harness.button.press();
    await run.waitForLine(/line 2: JT00000902 registered and assigned to mmartin2 — unplug the token/);
    const finished = await run.exited;
    expect(finished.code).toBe(1);
    expect(JSON.parse(finished.stdout)).toMatchObject({ done: 1, doneEarlier: 1, failed: 1, notReached: 0 });
    expect((await validator.request("GET", "/v1/tokens/JT00000901")).json.user).toBe("jdupont2");
    expect((await validator.request("GET", "/v1/tokens/JT00000902")).json.user).toBe("mmartin2");
    expect((await validator.request("GET", "/v1/tokens/JT00000903")).json.user).toBeNull();
    // The operator assigns it (`jeton staff assign`), and the next run finishes the row from the journal.
    await assignToken(validator.ctx, operator, "JT00000903", "hdesk");
    const again = await jeton(["batch", csv, "--tcp", String(bench.hub.port), "--json"], env);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ done: 0, doneEarlier: 3, failed: 0, notReached: 0 });
    // the orphan seed is gone: the token holds the new, registered one
    expect((await plugged.token.secretFingerprint()).equals(secretFingerprint(orphanSeed, "JT00000902"))).toBe(false);
    await plugged.unplug();
  });

  test("a row whose registered token could not be assigned is finished by the next run, once the operator assigned it, without another token", async () => {
    // An attacker review (2026-12-03) found such a row journalled as failed: the next run asked for a new blank token.
    // a help-desk colleague (staff hold a token of their own)
    expect((await validator.request("POST", "/v1/tokens", { serial: "JT00000949", secretHex: "66".repeat(32) })).status).toBe(201);
    expect((await validator.request("POST", "/v1/tokens/JT00000949/assign", { user: "hdesk2" })).status).toBe(200);
    await addStaff(validator.ctx, operator, "hdesk2", "helpdesk");
    const csv = join(dir, "staff.csv");
    writeFileSync(csv, "user,serial\nhdesk2,JT00000950\n");
    const plugged = await bench.plug();

    const first = await jeton(["batch", csv, "--tcp", String(bench.hub.port), "--json", "--wait", "20"], env);
    expect(first.code).toBe(1);
    expect(JSON.parse(first.stdout)).toMatchObject({ done: 0, failed: 1 });
    // the token was written and registered; only the assignment was refused
    expect((await validator.request("GET", "/v1/tokens/JT00000950")).json).toMatchObject({ serial: "JT00000950", user: null });
    expect(await plugged.token.serial()).toBe("JT00000950");

    // the operator does what the message says
    await assignToken(validator.ctx, operator, "JT00000950", "hdesk2");

    const second = await jeton(["batch", csv, "--tcp", String(bench.hub.port), "--json", "--wait", "3"], env);
    const summary = JSON.parse(second.stdout || "{}");
    expect(summary.rows?.[0], `second run: ${second.stderr.split("\n").slice(-4).join(" | ")}`).toMatchObject({ result: "done-earlier", serial: "JT00000950" });
    expect(second.code).toBe(0);
    await plugged.unplug();
  });

  test("provisions row after row, survives a crash, resumes, and sums up", async () => {
    const csv = join(dir, "term.csv");
    const pskc = join(dir, "term.pskc");
    writeFileSync(csv, CSV);
    // a serial that is already taken: its row is refused, the batch goes on
    expect((await validator.request("POST", "/v1/tokens", { serial: "JT00000599", secretHex: "22".repeat(32) })).status).toBe(201);
    const args = ["batch", csv, "--tcp", String(bench.hub.port), "--pskc-out", pskc];

    // --- first run: one token, then the process is killed
    const first = startCli(args, env);
    await first.waitForLine(/line 3 \(jdupont\): waiting for a blank token/);
    let plugged: PluggedToken | undefined = await bench.plug();
    const [, jdupontSerial] = await first.waitForLine(/line 3: (JT\d{8}) registered and assigned to jdupont — unplug the token/);
    first.kill("SIGKILL");
    expect((await first.exited).signal).toBe("SIGKILL");
    const jdupontFingerprint = await plugged.token.secretFingerprint();
    await plugged.unplug();

    // --- second run: resumes at line 5
    const second = startCli([...args, "--json"], env);
    await second.waitForLine(/resuming: 1 row\(s\) already done, 3 to go/);
    for (const bad of [/line 4: skipped, "bad user" is not an academic identifier/, /line 6: skipped, serial "XX1" does not match/, /line 7: skipped, 3 columns/]) {
      await second.waitForLine(bad);
    }
    const fingerprints = new Map<string, Buffer>([[jdupontSerial!, jdupontFingerprint]]);
    await second.waitForLine(/line 5 \(mmartin\): waiting for a blank token/);
    plugged = await bench.plug();
    await second.waitForLine(/line 5: JT00000501 registered and assigned to mmartin — unplug the token/);
    fingerprints.set("JT00000501", await plugged.token.secretFingerprint());
    await plugged.unplug();
    await second.waitForLine(/line 8 \(ablanc\): waiting for a blank token/);
    plugged = await bench.plug();
    await second.waitForLine(/line 8: FAILED — serial JT00000599 is already registered/);
    // the refused row did not touch the token: it serves the next row
    const [, lbernardSerial] = await second.waitForLine(/line 9: (JT\d{8}) registered and assigned to lbernard — unplug the token/);
    fingerprints.set(lbernardSerial!, await plugged.token.secretFingerprint());
    await plugged.unplug();
    const finished = await second.exited;
    expect(finished.code).toBe(1); // malformed and refused rows make the batch incomplete
    const summary = JSON.parse(finished.stdout);
    expect(summary).toMatchObject({ done: 2, doneEarlier: 1, failed: 1, notReached: 0 });
    expect(summary.malformed.map((m: { line: number }) => m.line)).toEqual([4, 6, 7]);
    expect(summary.rows.map((r: { line: number; result: string }) => [r.line, r.result])).toEqual([
      [3, "done-earlier"],
      [5, "done"],
      [8, "failed"],
      [9, "done"],
    ]);
    expect(summary.secondsPerToken).toBeGreaterThan(0);

    // --- the validator has each token assigned to its user; the refused serial is untouched
    for (const [serial, user] of [[jdupontSerial, "jdupont"], ["JT00000501", "mmartin"], [lbernardSerial, "lbernard"]] as const) {
      expect((await validator.request("GET", `/v1/tokens/${serial}`)).json).toMatchObject({ serial, user });
    }
    expect((await validator.request("GET", "/v1/tokens/JT00000599")).json.user).toBeNull();

    // --- the journal holds no secret; the PSKC export holds all three tokens, across both runs
    const journal = readFileSync(`${csv}.journal`, "utf8");
    const keys = readPskc(readFileSync(pskc, "utf8"), { kind: "password", password: Buffer.from("batch export password") });
    expect(keys.map((k) => [k.serial, k.user])).toEqual([
      [jdupontSerial, "jdupont"],
      ["JT00000501", "mmartin"],
      [lbernardSerial, "lbernard"],
    ]);
    for (const key of keys) {
      expect(secretFingerprint(key.seed, key.serial).equals(fingerprints.get(key.serial)!)).toBe(true);
      const seed = Buffer.from(key.seed);
      for (const encoded of [seed.toString("hex"), seed.toString("base64"), seed.toString("base64").slice(0, 24)]) {
        expect(journal).not.toContain(encoded);
        expect(finished.stdout + finished.stderr).not.toContain(encoded);
      }
    }
    const pskctool = ensurePskctool();
    if (pskctool.available) expect(pskctoolValidate(pskc).ok).toBe(true);

    // --- a third run retries only the refused row; with no token plugged in it stops and says why
    const third = await jeton([...args, "--wait", "1"], env);
    expect(third.code).toBe(4);
    expect(third.stderr).toMatch(/resuming: 3 row\(s\) already done, 1 to go/);
    expect(third.stdout).toMatch(/batch stopped \(no token found on tcp:\/\/127\.0\.0\.1:\d+ within 1 s\): 3 of 4 row\(s\) done \(3 in an earlier run\), 0 failed, 1 not reached, 3 malformed/);

    // --- and Ctrl-C while it waits for a token stops it cleanly, with the summary
    const fourth = startCli(args, env);
    await fourth.waitForLine(/line 8 \(ablanc\): waiting for a blank token/);
    fourth.kill("SIGINT");
    const interrupted = await fourth.exited;
    expect(interrupted.code).toBe(1);
    expect(interrupted.stderr).toMatch(/stopping after the current token/);
    expect(interrupted.stdout).toMatch(/batch stopped \(stopped by the operator\): 3 of 4 row\(s\) done/);
  });
});
