// Drift trim on the real firmware (set_time_trim, 0x83), with the simulated RTC's crystal running
// at a chosen ppm: a month passes for the chip while the token is off (rebooted), the token's
// drift is measured as the help desk would, the measured rate is sent with an authenticated time
// correction, and over the next simulated month the token stays within 2 ppm. Both trims: the
// Badger's PCF85063A Offset register (the simulated chip models it: mode 0, 4.34 ppm per step,
// positive = slower) and the XIAO's software trim (PCF8563, no Offset register). Also the
// refusals: bad MAC, replayed counter, too large, backward without the button.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { repoRoot } from "../../common/token-service/devs-cli.js";
import { setTimeTrimMac, TokenResult } from "../../common/token-service/token-protocol.js";
import { pcf85063aOffsetSlowdownPpm } from "../../hardware/sim/simulated-rtc.js";
import { startTokenSim, type TokenSim } from "../../hardware/sim/token-sim.js";
import { grouped, newSeed, profile, referenceTotp, SCREEN } from "./token-helpers.js";

const MONTH_SECONDS = 30 * 86400;
const WAIT_SCREEN = (serial: string) => `${serial}\nWait for next code`;

/**
 * One simulated token plus the test's own true clock: host time plus the simulated time that
 * passed while the token was off.
 */
class DriftBench {
  skipped = 0;
  counter = 0;
  constructor(
    readonly sim: TokenSim,
    readonly serial: string,
    readonly seed: Buffer,
  ) {}

  trueNow(): number {
    return Date.now() / 1000 + this.skipped;
  }

  /** The token is off for a month; its RTC keeps counting at the crystal's (trimmed) rate. */
  async offForAMonth() {
    await this.sim.reboot(() => {
      this.sim.harness.rtc!.elapse(MONTH_SECONDS);
      this.skipped += MONTH_SECONDS;
    });
    await this.sim.token.waitForScreen((s) => s.startsWith(this.serial));
  }

  /** The token's time minus the true time, in seconds (what the help desk measures at a resync). */
  async offsetSeconds(): Promise<number> {
    const before = this.trueNow();
    const device = await this.sim.token.deviceTime();
    const after = this.trueNow();
    expect(device).toBeGreaterThan(0);
    return device - (before + after) / 2;
  }

  /** Sends a signed time correction to the true time with a trim (ppb); resolves to the result. */
  setTimeTrim(trimPpb: number, options: { counter?: number; mac?: Buffer; time?: number } = {}): Promise<number> {
    const counter = options.counter ?? ++this.counter;
    const time = options.time ?? Math.round(this.trueNow());
    return this.sim.token.setTimeTrim(time, counter, trimPpb, options.mac ?? setTimeTrimMac(this.seed, time, counter, trimPpb));
  }

  /** The screen shows the code of the true time (not the raw chip's), within the redraw lag. */
  async expectShowsTrueCode() {
    const before = this.trueNow();
    const text = await this.sim.token.screenText();
    const after = this.trueNow();
    const accepted = [before - 2, before, after].map((t) => grouped(referenceTotp(this.seed, t)));
    expect(text.split("\n")[0]).toBe(this.serial);
    expect(accepted).toContain(text.split("\n")[1]);
  }
}

async function provisionedBench(sim: TokenSim, serial: string): Promise<DriftBench> {
  const bench = new DriftBench(sim, serial, newSeed());
  const time = Math.round(bench.trueNow());
  expect(await sim.token.provision({ time, algorithm: profile.algorithm, serial, seed: bench.seed })).toBe(TokenResult.Ok);
  return bench;
}

/** Measures the drift over a month, trims it, and checks the next month stays within 2 ppm. */
async function trimAndCheckAMonth(bench: DriftBench, chosenPpm: number, confirmBackward: boolean) {
  await bench.offForAMonth();
  const measuredPpm = ((await bench.offsetSeconds()) / MONTH_SECONDS) * 1e6;
  // before the trim the token drifts at the crystal's rate
  expect(Math.abs(measuredPpm - chosenPpm)).toBeLessThan(1.5);

  const trimPpb = Math.round(measuredPpm * 1000);
  const result = bench.setTimeTrim(trimPpb);
  if (confirmBackward) {
    // a fast token is set back: only with the button, and no code already shown comes back
    await bench.sim.token.waitForScreen((s) => s === SCREEN.confirm("set clock back"));
    await bench.sim.harness.button.press();
    expect(await result).toBe(TokenResult.Ok);
    expect(await bench.sim.token.screenText()).toBe(WAIT_SCREEN(bench.serial));
  } else {
    expect(await result).toBe(TokenResult.Ok);
    await bench.expectShowsTrueCode();
  }
  expect(Math.abs(await bench.offsetSeconds())).toBeLessThanOrEqual(2);

  await bench.offForAMonth();
  const residualPpm = ((await bench.offsetSeconds()) / MONTH_SECONDS) * 1e6;
  expect(Math.abs(residualPpm)).toBeLessThan(2);
  await bench.expectShowsTrueCode();
  console.log(`drift trim: crystal ${chosenPpm} ppm, measured ${measuredPpm.toFixed(2)} ppm, after trim ${residualPpm.toFixed(2)} ppm`);
  return { measuredPpm, residualPpm };
}

describe("drift trim on the Badger (PCF85063A Offset register)", () => {
  const CHOSEN_PPM = 30; // fast: the correction after a month is backward (~78 s)
  let sim: TokenSim;
  let bench: DriftBench;

  beforeAll(async () => {
    sim = await startTokenSim({ driftPpm: CHOSEN_PPM });
    bench = await provisionedBench(sim, "JT00000301");
  });
  afterAll(async () => {
    await sim?.close();
  });

  test("a month at +30 ppm, trimmed through the Offset register: the next month drifts < 2 ppm", async () => {
    const rtc = sim.harness.rtc!;
    expect(rtc.offsetRegister).toBe(0); // provisioning starts untrimmed
    const { measuredPpm } = await trimAndCheckAMonth(bench, CHOSEN_PPM, true);
    // a fast crystal gets a positive Offset value (slower clock), within half a 4.34 ppm step
    expect(rtc.offsetRegister).toBe(Math.round(measuredPpm / 4.34));
    expect(Math.abs(pcf85063aOffsetSlowdownPpm(rtc.offsetRegister) - CHOSEN_PPM)).toBeLessThanOrEqual(2.17);
    expect(Math.abs(rtc.effectiveRate() - 1) * 1e6).toBeLessThanOrEqual(2.17);
  });

  test("refusals change nothing: bad MAC, replayed counter, too large", async () => {
    const rtc = sim.harness.rtc!;
    const writes = rtc.writes.length;
    const register = rtc.offsetRegister;
    const last = bench.counter;
    const trim = 12_000;
    const time = Math.round(bench.trueNow());
    const next = last + 1;
    // a MAC for another trim, another seed, or a plain set-time MAC does not authorise this trim
    expect(await bench.setTimeTrim(trim, { counter: next, mac: setTimeTrimMac(bench.seed, time, next, trim + 1), time })).toBe(
      TokenResult.BadMac,
    );
    expect(await bench.setTimeTrim(trim, { counter: next, mac: setTimeTrimMac(newSeed(), time, next, trim), time })).toBe(
      TokenResult.BadMac,
    );
    expect(await bench.setTimeTrim(trim, { counter: next, mac: Buffer.alloc(32), time })).toBe(TokenResult.BadMac);
    expect(await bench.setTimeTrim(trim, { counter: last })).toBe(TokenResult.ReplayedCounter);
    expect(await bench.setTimeTrim(200_001, { counter: next })).toBe(TokenResult.CorrectionTooLarge);
    expect(await bench.setTimeTrim(-200_001, { counter: next })).toBe(TokenResult.CorrectionTooLarge);
    const max = profile.clock.maxForwardCorrectionSeconds;
    const now = Math.round(bench.trueNow());
    expect(await bench.setTimeTrim(trim, { counter: next, time: now + max + 5 })).toBe(TokenResult.CorrectionTooLarge);
    expect(await bench.setTimeTrim(trim, { counter: next, time: now - max - 5 })).toBe(TokenResult.BackwardCorrection);
    expect(rtc.writes.length).toBe(writes);
    expect(rtc.offsetRegister).toBe(register);
    expect(await sim.token.setTimeCounter()).toBe(last);
  });

  test("a backward step without the button press is refused and changes nothing", async () => {
    const rtc = sim.harness.rtc!;
    const writes = rtc.writes.length;
    const register = rtc.offsetRegister;
    const last = bench.counter;
    const result = bench.setTimeTrim(50_000, { counter: last + 1, time: Math.round(bench.trueNow()) - 30 });
    await sim.token.waitForScreen((s) => s === SCREEN.confirm("set clock back"));
    expect(await result).toBe(TokenResult.NotConfirmed);
    expect(rtc.writes.length).toBe(writes);
    expect(rtc.offsetRegister).toBe(register);
    expect(await sim.token.setTimeCounter()).toBe(last);
    await sim.token.waitForScreen((s) => s.startsWith(bench.serial));
  });
});

describe("drift trim on the XIAO (PCF8563, trim applied in software)", () => {
  const CHOSEN_PPM = -25; // slow: the correction after a month is forward (~65 s)
  const dir = mkdtempSync(join(tmpdir(), "jeton-xiao-"));
  let sim: TokenSim;
  let bench: DriftBench;

  beforeAll(async () => {
    const base = JSON.parse(readFileSync(join(repoRoot(), "devicescript.json"), "utf8"));
    writeFileSync(join(dir, "profile.json"), JSON.stringify({ ...base, board: "seeed-xiao-esp32c3-expansion" }));
    execFileSync(
      process.execPath,
      [join(repoRoot(), "firmware/scripts/build.mjs"), "--profile", join(dir, "profile.json"), "--out", join(dir, "out")],
      { stdio: "ignore" },
    );
    sim = await startTokenSim({ image: join(dir, "out", "jeton.devs"), driftPpm: CHOSEN_PPM });
    bench = await provisionedBench(sim, "JT00000302");
  });
  afterAll(async () => {
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a month at -25 ppm, trimmed in software: the next month drifts < 2 ppm, the trim survives reboots", async () => {
    await trimAndCheckAMonth(bench, CHOSEN_PPM, false);
    // the chip itself was not trimmed: the crystal still runs 25 ppm slow, the firmware corrects it
    expect(sim.harness.rtc!.offsetRegister).toBe(0);
    expect((sim.harness.rtc!.effectiveRate() - 1) * 1e6).toBeCloseTo(CHOSEN_PPM, 6);
  });
});
