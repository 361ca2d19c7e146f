// The power-budget model's arithmetic (hardware/power-budget.ts): an average-current sum.
import { expect, test } from "vitest";
import { BADGER_2040W, estimate, PERIOD_SECONDS, XIAO_ESP32C3_EXPANSION } from "../../hardware/power-budget.js";

test("e-ink always-visible: off current plus one wake per period", () => {
  const e = estimate(BADGER_2040W, "always-visible", { updatesPerPeriod: 1, usesPerDay: 0, secondsShownPerUse: 0 });
  const wakeCharge = 1.2 * 25 + 1.5 * 28; // mA·s
  const expectedMicroAmps = 10 + (wakeCharge / PERIOD_SECONDS) * 1000;
  expect(e.averageMicroAmps).toBeCloseTo(expectedMicroAmps, 6);
  expect(e.days).toBeCloseTo(1000 / (expectedMicroAmps / 1000) / 24, 6);
});

test("more updates or more uses never last longer", () => {
  const one = estimate(BADGER_2040W, "always-visible", { updatesPerPeriod: 1, usesPerDay: 6, secondsShownPerUse: 30 });
  const four = estimate(BADGER_2040W, "always-visible", { updatesPerPeriod: 4, usesPerDay: 6, secondsShownPerUse: 30 });
  expect(four.days).toBeLessThan(one.days);
  const few = estimate(XIAO_ESP32C3_EXPANSION, "press-to-show", { updatesPerPeriod: 1, usesPerDay: 2, secondsShownPerUse: 30 });
  const many = estimate(XIAO_ESP32C3_EXPANSION, "press-to-show", { updatesPerPeriod: 1, usesPerDay: 20, secondsShownPerUse: 30 });
  expect(many.days).toBeLessThan(few.days);
});

test("an OLED shown all the time lasts hours, not days", () => {
  const e = estimate(XIAO_ESP32C3_EXPANSION, "always-visible");
  expect(e.averageMicroAmps).toBeCloseTo((22 + 8) * 1000 + 60, 6);
  expect(e.days).toBeLessThan(1);
});

test("every input names its source", () => {
  for (const b of [BADGER_2040W, XIAO_ESP32C3_EXPANSION])
    for (const [k, f] of Object.entries(b)) if (k !== "name") expect(["datasheet", "vendor", "assumed", "measured"]).toContain(f.source);
});
