// The power-budget model (hardware/power-budget.ts): a charge sum over the board's events, and the
// battery's charge between supply voltages from its discharge curve.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { repoRoot } from "../../common/token-service/devs-cli.js";
import {
  averageCurrent,
  BADGER_2040W,
  chargeBetween,
  estimate,
  fractionDrawnAt,
  PERIOD_SECONDS,
  XIAO_ESP32C3_EXPANSION,
} from "../../hardware/power-budget.js";

test("e-ink always-visible: off current plus one wake (boot, no radio, one 0.93 s refresh at 33 mA) per code", () => {
  const wakeCharge = 1.2 * 25 + 0 + 0.93 * 33; // mA·s
  const expectedMicroAmps = 10 + (wakeCharge / PERIOD_SECONDS) * 1000;
  expect(averageCurrent(BADGER_2040W, "always-visible").microAmps).toBeCloseTo(expectedMicroAmps, 6);
});

test("a battery gives its charge down to the board's 2.7 V floor, not to empty", () => {
  const [lithium, alkaline] = BADGER_2040W.batteries;
  expect(fractionDrawnAt(alkaline.curve.points, 1.35)).toBeCloseTo(0.4, 6);
  expect(chargeBetween(alkaline, 3.0, 2.7)).toBeCloseTo(0.4 * 1200, 6);
  expect(chargeBetween(lithium, 3.3, 2.7)).toBeCloseTo(0.95 * 1200, 6);
  const e = estimate(BADGER_2040W, "always-visible", alkaline);
  expect(e.days).toBeCloseTo((0.4 * 1200) / (e.averageMicroAmps / 1000) / 24, 6);
});

test("more uses never last longer", () => {
  const few = estimate(BADGER_2040W, "press-to-show", undefined, { usesPerDay: 2 });
  const many = estimate(BADGER_2040W, "press-to-show", undefined, { usesPerDay: 20 });
  expect(many.days).toBeLessThan(few.days);
});

test("press-to-show: the firmware's battery-low threshold leaves at least two weeks, with either AAA chemistry", () => {
  for (const battery of BADGER_2040W.batteries) {
    const e = estimate(BADGER_2040W, "press-to-show", battery);
    expect(e.warningDays!, battery.name).toBeGreaterThanOrEqual(14);
  }
});

test("an OLED shown all the time lasts hours, not days; the XIAO has no battery mark", () => {
  const e = estimate(XIAO_ESP32C3_EXPANSION, "always-visible");
  expect(e.averageMicroAmps).toBeCloseTo((22 + 8) * 1000 + 60, 6);
  expect(e.days).toBeLessThan(1);
  expect(e.warningDays).toBeUndefined();
});

test("every input names its source", () => {
  for (const b of [BADGER_2040W, XIAO_ESP32C3_EXPANSION]) {
    for (const [k, f] of Object.entries(b))
      if (k !== "name" && k !== "batteries") expect(["datasheet", "vendor", "assumed", "measured"]).toContain(f.source);
    for (const c of b.batteries) for (const f of [c.capacity, c.curve]) expect(["datasheet", "vendor", "assumed", "measured"]).toContain(f.source);
  }
});

test("the model's battery-low threshold is the firmware's", () => {
  const parts = readFileSync(join(repoRoot(), "firmware/src/boards/pimoroni-badger2040w-parts.ts"), "utf8");
  expect(Number(/BADGER_BATTERY_LOW_VOLTS = ([\d.]+)/.exec(parts)?.[1])).toBe(BADGER_2040W.batteryLowVolts.value);
});
