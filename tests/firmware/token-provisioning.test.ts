// The real firmware in the DeviceScript VM: provisioning, refusals, the displayed code against an
// independent RFC 6238 implementation, persistence across reboots, wipe with the button.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { secretFingerprint, TokenResult } from "../../common/token-service/token-protocol.js";
import { startTokenSim, type TokenSim } from "../../hardware/sim/token-sim.js";
import {
  expectShowsCurrentCode,
  grouped,
  newSeed,
  nowSeconds,
  profile,
  referenceTotp,
  SCREEN,
} from "./token-helpers.js";

describe("token provisioning in the VM", () => {
  let sim: TokenSim;
  const serial = "JT00000042";
  const seed = newSeed("SHA256");
  const vmLog: string[] = [];

  beforeAll(async () => {
    sim = await startTokenSim({ onVmLog: (line) => vmLog.push(line) });
  });
  afterAll(async () => {
    await sim?.close();
  });

  test("a fresh token says it is not provisioned and exposes no secret", async () => {
    expect(await sim.token.screenText()).toBe(SCREEN.notProvisioned);
    expect(await sim.token.provisioned()).toBe(false);
    expect(await sim.token.serial()).toBe("");
    expect((await sim.token.secretFingerprint()).length).toBe(0);
    expect(await sim.token.algorithm()).toBe(0);
  });

  test("profile and firmware version registers come from devicescript.json / package.json", async () => {
    expect(await sim.token.profile()).toBe(
      `${profile.profile} ${profile.algorithm} ${profile.digits} ${profile.period} ${profile.t0} ${profile.clock.maxForwardCorrectionSeconds}`,
    );
    expect(await sim.token.firmwareVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });

  test("refuses unknown algorithms, wrong seed lengths, bad serials and bad times", async () => {
    const t = nowSeconds();
    const p = (over: Partial<Parameters<TokenSim["token"]["provision"]>[0]>) =>
      sim.token.provision({ time: t, algorithm: "SHA256", serial, seed, ...over });
    expect(await p({ algorithm: 0 })).toBe(TokenResult.UnknownAlgorithm);
    expect(await p({ algorithm: 3 })).toBe(TokenResult.UnknownAlgorithm);
    expect(await p({ seed: seed.subarray(0, 31) })).toBe(TokenResult.BadSeedLength);
    expect(await p({ algorithm: "SHA1", seed })).toBe(TokenResult.BadSeedLength);
    expect(await p({ seed: Buffer.alloc(0) })).toBe(TokenResult.BadSeedLength);
    expect(await p({ serial: "JT0000004" })).toBe(TokenResult.BadSerial);
    expect(await p({ serial: "XX00000042" })).toBe(TokenResult.BadSerial);
    expect(await p({ time: 1000 })).toBe(TokenResult.BadTime);
    expect(await sim.token.provisioned()).toBe(false);
    expect(await sim.token.screenText()).toBe(SCREEN.notProvisioned);
  });

  test("provisions and shows the RFC 6238 code with serial and validity bar", async () => {
    const writesBefore = sim.harness.rtc!.writes.length;
    const t = nowSeconds();
    expect(await sim.token.provision({ time: t, algorithm: "SHA256", serial, seed })).toBe(TokenResult.Ok);
    expect(sim.harness.rtc!.writes.length).toBe(writesBefore + 1);
    expect(sim.harness.rtc!.writes.at(-1)!.unixSeconds).toBe(t);
    expect(await sim.token.provisioned()).toBe(true);
    expect(await sim.token.serial()).toBe(serial);
    expect(await sim.token.algorithm()).toBe(2);
    expect(await sim.token.setTimeCounter()).toBe(0);
    expect(await sim.token.clockState()).toBe(0);
    expect((await sim.token.secretFingerprint()).equals(secretFingerprint(seed, serial))).toBe(true);
    expect(Math.abs((await sim.token.deviceTime()) - sim.harness.rtc!.now())).toBeLessThanOrEqual(2);
    await expectShowsCurrentCode(sim, serial, seed, "SHA256");
  });

  test("refuses to re-provision without a button press, and changes nothing", async () => {
    const other = newSeed("SHA256");
    expect(
      await sim.token.provision({ time: nowSeconds(), algorithm: "SHA256", serial: "JT00000043", seed: other }),
    ).toBe(TokenResult.AlreadyProvisioned);
    expect(await sim.token.serial()).toBe(serial);
    expect((await sim.token.secretFingerprint()).equals(secretFingerprint(seed, serial))).toBe(true);
    await expectShowsCurrentCode(sim, serial, seed);
  });

  test("keeps seed and serial across a reboot on the same flash", async () => {
    await sim.reboot();
    expect(await sim.token.provisioned()).toBe(true);
    expect(await sim.token.serial()).toBe(serial);
    expect((await sim.token.secretFingerprint()).equals(secretFingerprint(seed, serial))).toBe(true);
    await sim.token.waitForScreen((s) => s.startsWith(serial));
    await expectShowsCurrentCode(sim, serial, seed);
  });

  test("re-provisions with SHA-1 when the button is pressed during the prompt", async () => {
    const sha1Seed = newSeed("SHA1");
    const sha1Serial = "JT00000099";
    const result = sim.token.provision({ time: nowSeconds(), algorithm: "SHA1", serial: sha1Serial, seed: sha1Seed });
    await sim.token.waitForScreen((s) => s === SCREEN.confirm("re-provision"));
    await sim.harness.button.press();
    expect(await result).toBe(TokenResult.Ok);
    expect(await sim.token.algorithm()).toBe(1);
    await expectShowsCurrentCode(sim, sha1Serial, sha1Seed, "SHA1");
    // and the old seed's code is not what is shown (guards against a stale cache)
    const text = await sim.token.screenText();
    expect(text.split("\n")[1]).not.toBe(grouped(referenceTotp(seed, sim.harness.rtc!.now(), "SHA256")));
  });

  test("wipe needs the button: without a press nothing is erased", async () => {
    expect(await sim.token.wipe()).toBe(TokenResult.NotConfirmed);
    expect(await sim.token.provisioned()).toBe(true);
  });

  test("the VM log never contains a seed", () => {
    const log = vmLog.join("\n").toLowerCase();
    expect(vmLog.length).toBeGreaterThan(0);
    expect(log).not.toContain(seed.toString("hex"));
    expect(log).not.toContain(seed.toString("base64").toLowerCase());
  });

  test("wipe with the button erases the seed, also after a reboot", async () => {
    const result = sim.token.wipe();
    await sim.token.waitForScreen((s) => s === SCREEN.confirm("wipe"));
    await sim.harness.button.press();
    expect(await result).toBe(TokenResult.Ok);
    expect(await sim.token.provisioned()).toBe(false);
    expect((await sim.token.secretFingerprint()).length).toBe(0);
    expect(await sim.token.screenText()).toBe(SCREEN.notProvisioned);
    expect(await sim.token.wipe()).toBe(TokenResult.NotProvisioned);
    await sim.reboot();
    expect(await sim.token.provisioned()).toBe(false);
    expect(await sim.token.screenText()).toBe(SCREEN.notProvisioned);
  });
});
