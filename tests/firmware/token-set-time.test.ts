// Authenticated clock corrections on the real firmware: only a MAC'd, strictly newer counter with
// a small forward step is accepted; every refusal leaves clock, counter and screen unchanged.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { jacdac } from "../../common/token-service/jacdac.js";
import { setTimeMac, TokenResult } from "../../common/token-service/token-protocol.js";
import { startTokenSim, type TokenSim } from "../../hardware/sim/token-sim.js";
import { expectShowsCurrentCode, newSeed, nowSeconds, profile } from "./token-helpers.js";

describe("authenticated set-time in the VM", () => {
  let sim: TokenSim;
  const serial = "JT00000101";
  const seed = newSeed();
  const max = profile.clock.maxForwardCorrectionSeconds;

  const signed = (time: number, counter: number) => ({ time, counter, mac: setTimeMac(seed, time, counter) });
  const deviceNow = () => Math.floor(sim.harness.rtc!.now());

  async function expectNothingChanged(writesBefore: number, counterBefore: number) {
    expect(sim.harness.rtc!.writes.length).toBe(writesBefore);
    expect(await sim.token.setTimeCounter()).toBe(counterBefore);
    expect(await sim.token.clockState()).toBe(0);
    await expectShowsCurrentCode(sim, serial, seed);
  }

  beforeAll(async () => {
    // the token's clock runs 100 s slow: the help desk corrects it forward
    sim = await startTokenSim({ clockOffsetSeconds: -100 });
    expect(await sim.token.provision({ time: nowSeconds() - 100, algorithm: profile.algorithm, serial, seed })).toBe(
      TokenResult.Ok,
    );
  });
  afterAll(async () => {
    await sim?.close();
  });

  test("set-time is refused on an unprovisioned token", async () => {
    const other = await startTokenSim();
    try {
      expect(await other.token.setTime(signed(nowSeconds(), 1))).toBe(TokenResult.NotProvisioned);
    } finally {
      await other.close();
    }
  });

  test("a signed forward correction within the bound is applied", async () => {
    const writes = sim.harness.rtc!.writes.length;
    const target = deviceNow() + 100;
    expect(await sim.token.setTime(signed(target, 1))).toBe(TokenResult.Ok);
    expect(sim.harness.rtc!.writes.length).toBe(writes + 1);
    expect(sim.harness.rtc!.writes.at(-1)!.unixSeconds).toBe(target);
    expect(Math.abs(sim.harness.rtc!.now() - nowSeconds())).toBeLessThanOrEqual(3);
    expect(await sim.token.setTimeCounter()).toBe(1);
    await expectShowsCurrentCode(sim, serial, seed);
  });

  test("a replayed counter is refused", async () => {
    const writes = sim.harness.rtc!.writes.length;
    expect(await sim.token.setTime(signed(deviceNow() + 10, 1))).toBe(TokenResult.ReplayedCounter);
    expect(await sim.token.setTime(signed(deviceNow() + 10, 0))).toBe(TokenResult.ReplayedCounter);
    await expectNothingChanged(writes, 1);
  });

  test("a bad MAC is refused (wrong seed, flipped bit, MAC for another time, truncated)", async () => {
    const writes = sim.harness.rtc!.writes.length;
    const t = deviceNow() + 10;
    const wrongSeed = newSeed();
    expect(await sim.token.setTime({ time: t, counter: 2, mac: setTimeMac(wrongSeed, t, 2) })).toBe(TokenResult.BadMac);
    const flipped = setTimeMac(seed, t, 2);
    flipped[5] ^= 0x01;
    expect(await sim.token.setTime({ time: t, counter: 2, mac: flipped })).toBe(TokenResult.BadMac);
    expect(await sim.token.setTime({ time: t + 1, counter: 2, mac: setTimeMac(seed, t, 2) })).toBe(TokenResult.BadMac);
    expect(await sim.token.setTime({ time: t, counter: 2, mac: setTimeMac(seed, t, 2).subarray(0, 16) })).toBe(
      TokenResult.BadMac,
    );
    await expectNothingChanged(writes, 1);
  });

  test("a truncated or empty set_time payload is answered with a refusal, not silence", async () => {
    const writes = sim.harness.rtc!.writes.length;
    for (const data of [[], [1, 2, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]]) {
      const resp = await sim.token.token.sendCmdAwaitResponseAsync(jacdac.Packet.from(0x82, new Uint8Array(data)), 3000);
      expect(resp.data[0]).toBe(TokenResult.BadMac);
    }
    await expectNothingChanged(writes, 1);
  });

  test("backward and too large corrections are refused", async () => {
    const writes = sim.harness.rtc!.writes.length;
    expect(await sim.token.setTime(signed(deviceNow() - 5, 2))).toBe(TokenResult.BackwardCorrection);
    expect(await sim.token.setTime(signed(deviceNow() - 86400, 3))).toBe(TokenResult.BackwardCorrection);
    expect(await sim.token.setTime(signed(deviceNow() + max + 5, 4))).toBe(TokenResult.CorrectionTooLarge);
    expect(await sim.token.setTime(signed(deviceNow() + 365 * 86400, 5))).toBe(TokenResult.CorrectionTooLarge);
    await expectNothingChanged(writes, 1);
  });

  test("the counter survives a reboot, so old messages stay refused", async () => {
    await sim.reboot();
    await sim.token.waitForScreen((s) => s.startsWith(serial));
    expect(await sim.token.setTimeCounter()).toBe(1);
    expect(await sim.token.setTime(signed(deviceNow() + 10, 1))).toBe(TokenResult.ReplayedCounter);
    expect(await sim.token.setTime(signed(deviceNow() + 10, 7))).toBe(TokenResult.Ok);
    expect(await sim.token.setTimeCounter()).toBe(7);
  });
});
