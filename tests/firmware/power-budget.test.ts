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
  DEFAULT_MODE_INPUTS,
  estimate,
  fractionDrawnAt,
  maxUsesPerDayWithWarning,
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

test("the battery-low mark leaves at least two weeks in both modes, with either AAA chemistry", () => {
  for (const mode of ["always-visible", "press-to-show"] as const)
    for (const battery of BADGER_2040W.batteries) {
      const e = estimate(BADGER_2040W, mode, battery);
      expect(e.warningDays!, `${mode}, ${battery.name}`).toBeGreaterThanOrEqual(14);
    }
});

test("always-visible on lithium: the voltage alone warns days ahead, the cells' age weeks ahead, also at 10 % more current", () => {
  const [lithium] = BADGER_2040W.batteries;
  const byVoltage = estimate({ ...BADGER_2040W, cellsMarkAfterDays: { ...BADGER_2040W.cellsMarkAfterDays, value: 0 } }, "always-visible", lithium);
  expect(byVoltage.warningDays!).toBeLessThan(7);
  const e = estimate(BADGER_2040W, "always-visible", lithium);
  expect(e.warningDays).toBeCloseTo(e.days - BADGER_2040W.cellsMarkAfterDays.value, 6);
  expect(e.days / 1.1 - BADGER_2040W.cellsMarkAfterDays.value).toBeGreaterThanOrEqual(14);
});

test("press-to-show on lithium: the voltage mark leaves two weeks up to a stated number of uses a day", () => {
  const [lithium] = BADGER_2040W.batteries;
  const uses = maxUsesPerDayWithWarning(BADGER_2040W, lithium);
  expect(uses).toBeGreaterThanOrEqual(DEFAULT_MODE_INPUTS.usesPerDay);
  expect(estimate(BADGER_2040W, "press-to-show", lithium, { usesPerDay: uses }).warningDays!).toBeGreaterThanOrEqual(14);
  expect(estimate(BADGER_2040W, "press-to-show", lithium, { usesPerDay: uses + 1 }).warningDays!).toBeLessThan(14);
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

test("the model's battery-low threshold and cell age are the firmware's", () => {
  const boards = join(repoRoot(), "firmware/src/boards");
  const parts = readFileSync(join(boards, "pimoroni-badger2040w-parts.ts"), "utf8");
  expect(Number(/BADGER_BATTERY_LOW_VOLTS = ([\d.]+)/.exec(parts)?.[1])).toBe(BADGER_2040W.batteryLowVolts.value);
  const alwaysVisible = readFileSync(join(boards, "pimoroni-badger2040w.always-visible.ts"), "utf8");
  expect(Number(/BADGER_CELLS_MARK_AFTER_DAYS = (\d+)/.exec(alwaysVisible)?.[1])).toBe(BADGER_2040W.cellsMarkAfterDays.value);
});
