// The whole path with real parts: the firmware in the DeviceScript VM, `jeton provision` talking
// to it over the serial code path (a pty pair with a JDUSB device emulator relayed to the VM's
// hub), the validator on real SQLite, and the portal's logins. The validator's clock runs with
// real time like the token's simulated RTC; "time passes" moves both (the validator's clock and,
// through the firmware's authenticated set-time, the token's — a jump of the RTC itself would be
// latched as a clock-integrity loss, as it should).
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { setTimeMac, TokenResult } from "../../common/token-service/token-protocol.js";
import { startTokenSim, type TokenSim } from "../../hardware/sim/token-sim.js";
import { jeton } from "../support/cli.js";
import { startValidator, testDatabase, type RunningValidator } from "../support/test-validator.js";
import { FollowingClock } from "./support/following-clock.js";
import { supportsSetTimeTrim } from "./support/set-time-trim-probe.js";
import { startSerialTokenBridge, type SerialTokenBridge } from "./support/serial-token-bridge.js";
import { codeOnDisplay, nextCodeOnDisplay, seedFromOtpauth } from "./support/token-screen.js";

describe("provision over serial, then log in through the validator", () => {
  let sim: TokenSim;
  let bridge: SerialTokenBridge;
  let validator: RunningValidator;
  let database: Awaited<ReturnType<typeof testDatabase>>;
  const clock = new FollowingClock();
  const pin = "948271";
  let env: NodeJS.ProcessEnv;
  let serial = "";
  let seed: Buffer;
  let setTimeCounter = 0;
  /** firmware with SetTimeTrim sets a fast token back (resync-trim.test.ts); older firmware cannot */
  let setsBack = false;

  const validate = (body: object) => validator.request("POST", "/v1/validate", { user: "jdupont", ...body }, "portal");

  /** time passes for both clocks: the validator's, and the token's through an authenticated set-time */
  async function timePasses(seconds: number) {
    clock.advance(seconds);
    setTimeCounter++;
    const time = Math.floor(sim.harness.rtc!.now()) + seconds;
    expect(await sim.token.setTime({ time, counter: setTimeCounter, mac: setTimeMac(seed, time, setTimeCounter) })).toBe(TokenResult.Ok);
  }

  beforeAll(async () => {
    database = await testDatabase("sqlite");
    validator = await startValidator(database.location, { clock });
    sim = await startTokenSim();
    setsBack = await supportsSetTimeTrim(sim.token);
    bridge = await startSerialTokenBridge(sim.hub.port);
    env = { JETON_URL: validator.url, JETON_API_KEY: validator.keys.helpdesk };
  });
  afterAll(async () => {
    await bridge?.close();
    await sim?.close();
    await validator?.close();
    await database?.drop();
  });

  test("jeton provision seeds the VM token over the serial path and registers it for jdupont", async () => {
    const result = await jeton(["provision", "--port", bridge.hostPath, "--user", "jdupont", "--show-otpauth", "--json"], env);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const outcome = JSON.parse(result.stdout);
    expect(outcome.state).toBe("registered");
    expect(outcome.user).toBe("jdupont");
    expect(outcome.clockSource).toBe("validator");
    expect(outcome.verification.checks.map((c: { ok: boolean }) => c.ok)).toEqual([true, true, true, true, true, true]);
    serial = outcome.serial;
    expect(serial).toMatch(/^JT\d{8}$/);
    seed = seedFromOtpauth(outcome.otpauth);
    expect(seed.length).toBe(32);
    // the traffic really went through the pseudo-terminal
    expect(bridge.counts.fromHost).toBeGreaterThan(5);
    expect(bridge.counts.toHost).toBeGreaterThan(5);
    expect(await sim.token.serial()).toBe(serial);
    const registered = await validator.request("GET", `/v1/tokens/${serial}`);
    expect(registered.json).toMatchObject({ serial, user: "jdupont", algorithm: "SHA256", digits: 6, period: 60, status: "active" });
  });

  test("jeton devices and jeton status see the token on the serial port, and set no clock", async () => {
    // jacdac-ts buses broadcast the host's time to every RTC they see; the provisioner's must not
    const rtcWrites = sim.harness.rtc!.writes.length;
    const devices = await jeton(["devices", "--port", bridge.hostPath, "--json"], env);
    expect(devices.code).toBe(0);
    expect(JSON.parse(devices.stdout).tokens).toMatchObject([{ port: bridge.hostPath, serial, provisioned: true, clock: "ok" }]);
    const status = await jeton(["status", "--port", bridge.hostPath], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^${serial}: provisioned, SHA256\n  clock ok, [+-][012] s from the validator clock, set-time counter 0\n`));
    expect(status.stdout).toMatch(/validator: registered, assigned to jdupont, active, learned offset 0 steps/);
    expect(sim.harness.rtc!.writes.length).toBe(rtcWrites);
  });

  test("first login with the displayed code alone → new-pin challenge → PIN set → accepted", async () => {
    await clock.awayFromStepBoundary();
    const code = await codeOnDisplay(sim.token, serial);
    const first = await validate({ passcode: code });
    expect(first.json.result).toBe("challenge");
    expect(first.json.challenge.kind).toBe("new-pin");
    const answered = await validate({ challenge: first.json.challenge.id, response: pin });
    expect(answered.json.result).toBe("accept");
  });

  test("a minute later PIN + code is accepted, and the same passcode again is rejected", async () => {
    await clock.awayFromStepBoundary();
    const before = await codeOnDisplay(sim.token, serial);
    await timePasses(60);
    const code = await nextCodeOnDisplay(sim.token, serial, before);
    expect((await validate({ passcode: pin + code })).json.result).toBe("accept");
    expect((await validate({ passcode: pin + code })).json.result).toBe("reject");
  });

  test("the token's clock drifts 3 steps: next-code challenge, then accepted", async () => {
    await clock.awayFromStepBoundary();
    const before = await codeOnDisplay(sim.token, serial);
    await timePasses(60);
    // the validator's clock moves 3 steps further than the token's
    clock.advance(180);
    const code = await nextCodeOnDisplay(sim.token, serial, before);
    const drifted = await validate({ passcode: pin + code });
    expect(drifted.json.result).toBe("challenge");
    expect(drifted.json.challenge.kind).toBe("next-code");
    await timePasses(60);
    const next = await nextCodeOnDisplay(sim.token, serial, code);
    expect((await validate({ challenge: drifted.json.challenge.id, response: next })).json.result).toBe("accept");
    expect((await validator.request("GET", `/v1/tokens/${serial}`)).json.offsetSteps).toBe(-3);
  });

  test("jeton resync shows the measured offset and brings the token's clock back", async () => {
    const result = await jeton(["resync", "--port", bridge.hostPath], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^${serial}: measured offset -1[78]\\d s — corrected by authenticated set-time \\(counter 4\\); now [+-][012] s`));
    expect(Math.abs((await sim.token.deviceTime()) - clock.now() / 1000)).toBeLessThanOrEqual(2);
    expect(await sim.token.setTimeCounter()).toBe(4);
    // nothing secret in what the operator saw
    expect(result.stdout + result.stderr).not.toContain(seed.toString("hex"));
    const again = await jeton(["resync", "--port", bridge.hostPath, "--json"], env);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ serial, action: "in-sync" });
  });

  test("after the resync the validator follows the corrected clock at once (the learned offset starts over)", async () => {
    setTimeCounter = await sim.token.setTimeCounter();
    expect((await validator.request("GET", `/v1/tokens/${serial}`)).json.offsetSteps).toBe(0);
    // reset because the token confirmed the new time (finding 17), after the validator signed it
    const events = (await validator.request("GET", `/v1/audit?serial=${serial}&limit=5`, undefined, "auditor")).json.entries;
    expect(events.slice(0, 2).map((entry: { event: string; detail: unknown }) => [entry.event, entry.detail])).toEqual([
      ["token.clock-confirmed", expect.objectContaining({ counter: 4, previousOffsetSteps: -3 })],
      ["token.set-time-signed", expect.objectContaining({ counter: 4 })],
    ]);
    await clock.awayFromStepBoundary();
    const code = await codeOnDisplay(sim.token, serial);
    // the code the token shows now is exactly the validator's current step
    expect((await validate({ passcode: pin + code })).json.result).toBe("accept");
    await timePasses(60);
    const next = await nextCodeOnDisplay(sim.token, serial, code);
    expect((await validate({ passcode: pin + next })).json.result).toBe("accept");
    expect((await validator.request("GET", `/v1/tokens/${serial}`)).json.offsetSteps).toBe(0);
  });

  test("a token that runs fast cannot be set back by firmware without SetTimeTrim: resync refuses and says to re-provision", async (ctx) => {
    if (setsBack) ctx.skip();
    // the token's clock alone moves 2 minutes ahead
    setTimeCounter++;
    const time = Math.floor(sim.harness.rtc!.now()) + 120;
    expect(await sim.token.setTime({ time, counter: setTimeCounter, mac: setTimeMac(seed, time, setTimeCounter) })).toBe(TokenResult.Ok);
    const result = await jeton(["resync", "--port", bridge.hostPath], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`token ${serial} is 1[12]\\d s fast; the token accepts only forward corrections, so a fast clock needs re-provisioning`));
    expect(await sim.token.setTimeCounter()).toBe(setTimeCounter);
  });
});
