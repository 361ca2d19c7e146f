// Clock trust on the real firmware: code rollover at the period boundary, dates beyond 2038,
// integrity loss on jumps and power loss (latched across reboots until re-provisioning), and the
// "clock not set" screen when no clock answers. Never a code from an untrusted clock.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { connectBus } from "../../hardware/sim/harness-bus.js";
import { setTimeMac, TokenResult } from "../../common/token-service/token-protocol.js";
import { startTokenSim, type TokenSim } from "../../hardware/sim/token-sim.js";
import { newVmWorkDir } from "../../hardware/sim/vm-process.js";
import { rmSync } from "node:fs";
import { faceShowing, savePicture } from "./face-pictures.js";
import { readDigits } from "./face-reader.js";
import { expectShowsCurrentCode, grouped, newSeed, nowSeconds, profile, referenceTotp, SCREEN } from "./token-helpers.js";

const noDigits = (s: string) => !/\d{3} \d{3}/.test(s.split("\n").slice(1).join("\n"));

describe("clock handling in the VM", () => {
  let sim: TokenSim;
  const serial = "JT00000202";
  const seed = newSeed();

  beforeAll(async () => {
    sim = await startTokenSim();
  });
  afterAll(async () => {
    await sim?.close();
  });

  test("the code changes at the period boundary to the next RFC 6238 code", async () => {
    const period = profile.period;
    const boundary = (Math.floor(nowSeconds() / period) + 1) * period;
    expect(await sim.token.provision({ time: boundary - 3, algorithm: profile.algorithm, serial, seed })).toBe(
      TokenResult.Ok,
    );
    const first = grouped(referenceTotp(seed, boundary - 1));
    const next = grouped(referenceTotp(seed, boundary));
    expect(first).not.toBe(next);
    expect((await sim.token.screenText()).split("\n")[1]).toBe(first);
    const after = await sim.token.waitForScreen((s) => s.split("\n")[1] === next, 8000);
    expect(after.split("\n")[2]).toBe("[####]"); // a fresh period: full bar
  });

  test("beyond 2038 and in the 2090s the code still matches RFC 6238", async () => {
    for (const t of [2 ** 31 + 1000, 4_000_000_000]) {
      const result = sim.token.provision({ time: t, algorithm: profile.algorithm, serial, seed });
      await sim.token.waitForScreen((s) => s === SCREEN.confirm("re-provision"));
      await sim.harness.button.press();
      expect(await result).toBe(TokenResult.Ok);
      await expectShowsCurrentCode(sim, serial, seed);
      expect(Math.abs((await sim.token.deviceTime()) - t)).toBeLessThan(30);
    }
  });

  test("a clock jump loses integrity: warning screen, no code, no time, set-time refused", async () => {
    sim.harness.rtc!.jump(3600);
    const text = await sim.token.waitForScreen((s) => s === SCREEN.clockLost(serial));
    expect(noDigits(text)).toBe(true);
    expect(await sim.token.clockState()).toBe(2);
    expect(await sim.token.deviceTime()).toBe(0);
    const t = Math.floor(sim.harness.rtc!.now());
    expect(await sim.token.setTime({ time: t, counter: 1, mac: setTimeMac(seed, t, 1) })).toBe(
      TokenResult.ClockUntrusted,
    );
  });

  test("integrity loss is latched across a reboot, even with a sane clock", async () => {
    sim.harness.rtc!.set(nowSeconds());
    await sim.reboot();
    expect(await sim.token.waitForScreen((s) => s.startsWith(serial))).toBe(SCREEN.clockLost(serial));
    expect(await sim.token.clockState()).toBe(2);
  });

  test("re-provisioning (confirmed on the device) restores trust", async () => {
    const result = sim.token.provision({ time: nowSeconds(), algorithm: profile.algorithm, serial, seed });
    await sim.token.waitForScreen((s) => s === SCREEN.confirm("re-provision"));
    await sim.harness.button.press();
    expect(await result).toBe(TokenResult.Ok);
    expect(await sim.token.clockState()).toBe(0);
    await expectShowsCurrentCode(sim, serial, seed);
  });

  test("an RTC power loss (back to 2000) loses integrity", async () => {
    sim.harness.rtc!.powerLoss();
    const text = await sim.token.waitForScreen((s) => s === SCREEN.clockLost(serial));
    expect(noDigits(text)).toBe(true);
  });

  test("a slow backward step (clock set back by someone) loses integrity", async () => {
    const result = sim.token.provision({ time: nowSeconds(), algorithm: profile.algorithm, serial, seed });
    await sim.token.waitForScreen((s) => s === SCREEN.confirm("re-provision"));
    await sim.harness.button.press();
    expect(await result).toBe(TokenResult.Ok);
    await expectShowsCurrentCode(sim, serial, seed);
    sim.harness.rtc!.jump(-120);
    await sim.token.waitForScreen((s) => s === SCREEN.clockLost(serial));
  });

  test("a clock running 1.5x fast loses integrity within seconds", async () => {
    const result = sim.token.provision({ time: nowSeconds(), algorithm: profile.algorithm, serial, seed });
    await sim.token.waitForScreen((s) => s === SCREEN.confirm("re-provision"));
    await sim.harness.button.press();
    expect(await result).toBe(TokenResult.Ok);
    await expectShowsCurrentCode(sim, serial, seed);
    sim.harness.rtc!.setRate(1.5);
    await sim.token.waitForScreen((s) => s === SCREEN.clockLost(serial), 15_000);
    sim.harness.rtc!.setRate(1);
  });

  test("realistic crystal drift (+100 ppm) is not an integrity loss", async () => {
    const result = sim.token.provision({ time: nowSeconds(), algorithm: profile.algorithm, serial, seed });
    await sim.token.waitForScreen((s) => s === SCREEN.confirm("re-provision"));
    await sim.harness.button.press();
    expect(await result).toBe(TokenResult.Ok);
    sim.harness.rtc!.setDriftPpm(100);
    // watch several of the token's clock checks (it reads the RTC every 250 ms)
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      expect(await sim.token.clockState()).toBe(0);
    }
    await expectShowsCurrentCode(sim, serial, seed);
  });
});

describe("no clock answering", () => {
  test("a provisioned token without a reachable RTC says 'clock not set' and shows no code", async () => {
    const workDir = newVmWorkDir();
    const serial = "JT00000303";
    const seed = newSeed();
    try {
      const withRtc = await startTokenSim({ workDir });
      expect(await withRtc.token.provision({ time: nowSeconds(), algorithm: profile.algorithm, serial, seed })).toBe(
        TokenResult.Ok,
      );
      await withRtc.close();
      const withoutRtc = await startTokenSim({ workDir, withoutRtc: true });
      try {
        const { text, face } = await faceShowing(withoutRtc, (s) => s.startsWith(serial));
        expect(text).toBe(SCREEN.clockNotSet(serial));
        expect(readDigits(face)).toEqual([]);
        savePicture("badger-clock-not-set", face);
        expect(await withoutRtc.token.clockState()).toBe(1);
        expect(await withoutRtc.token.deviceTime()).toBe(0);
      } finally {
        await withoutRtc.close();
      }
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });
});

describe("host time broadcasts", () => {
  test("a jacdac-ts host broadcasting its local time does not move the token's clock", async () => {
    const sim = await startTokenSim();
    try {
      const serial = "JT00000404";
      const seed = newSeed();
      expect(await sim.token.provision({ time: nowSeconds(), algorithm: profile.algorithm, serial, seed })).toBe(
        TokenResult.Ok,
      );
      const rtc = sim.harness.rtc!;
      const writes = rtc.writes.length;
      // a plain jacdac-ts bus (a naive host) broadcasts its local time to every RTC it sees;
      // in another time zone that is hours off
      const host = await connectBus(sim.hub.port);
      try {
        const deadline = Date.now() + 10_000;
        while (rtc.ignoredBroadcasts === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        expect(rtc.ignoredBroadcasts).toBeGreaterThan(0);
      } finally {
        await host.disconnect();
        await host.dispose();
      }
      expect(rtc.writes.length).toBe(writes);
      expect(Math.abs(rtc.now() - Date.now() / 1000)).toBeLessThan(3);
      expect(await sim.token.clockState()).toBe(0);
      await expectShowsCurrentCode(sim, serial, seed);
    } finally {
      await sim.close();
    }
  });
});
