// Runs the firmware's on-VM unit tests (firmware/test/*.vmtest.ts) inside the real DeviceScript VM.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { firmwareDistDir } from "../../common/token-service/devs-cli.js";
import { runVmUnitImage } from "../../hardware/sim/vm-unit-runner.js";

const testDir = join(firmwareDistDir(), "test");
const images = readdirSync(testDir).filter((f) => f.endsWith(".devs")).sort();

// minimum test counts, so a suite that silently stops registering tests fails here
const MINIMUM_TESTS: Record<string, number> = {
  "totp.devs": 30,
  "clock-registers.devs": 15,
  "token-logic.devs": 15,
};

describe("firmware unit tests on the DeviceScript VM", () => {
  test("every expected test image was built", () => {
    expect(images).toEqual(Object.keys(MINIMUM_TESTS).sort());
  });

  for (const image of images) {
    test(image, async () => {
      const r = await runVmUnitImage(join(testDir, image));
      expect(r.failures, r.log.slice(-40).join("\n")).toEqual([]);
      expect(r.error).toBe(0);
      expect(r.exitCode).toBe(0);
      expect(r.pass).toBe(r.total);
      expect(r.total).toBeGreaterThanOrEqual(MINIMUM_TESTS[image] ?? 1);
    });
  }
});
