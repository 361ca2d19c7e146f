// `jeton sim` right after `npm install`: a missing firmware image is built on first use (saying
// so), and a missing DeviceScript toolchain is reported in plain words instead of an ENOENT.
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { ensureFirmwareBuilt } from "../../hardware/sim/firmware-build.js";

const dir = mkdtempSync(join(tmpdir(), "jeton-first-use-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("a missing image is built once, with a notice; an existing one is left alone", () => {
  const distDir = join(dir, "dist");
  const notices: string[] = [];
  expect(ensureFirmwareBuilt({ distDir, notice: (l) => notices.push(l) })).toBe(distDir);
  expect(notices).toHaveLength(1);
  expect(notices[0]).toMatch(/building the token firmware once \(jeton\.devs, services\.json missing/);
  expect(statSync(join(distDir, "jeton.devs")).size).toBeGreaterThan(1000);
  expect(existsSync(join(distDir, "services.json"))).toBe(true);

  ensureFirmwareBuilt({ distDir, notice: (l) => notices.push(l) });
  expect(notices).toHaveLength(1);
});

test("without the DeviceScript toolchain the error says what to install", () => {
  const notices: string[] = [];
  expect(() =>
    ensureFirmwareBuilt({
      distDir: join(dir, "never-built"),
      toolchainPackage: "@devicescript/not-installed",
      notice: (l) => notices.push(l),
    }),
  ).toThrow(/DeviceScript toolchain \(@devicescript\/not-installed\) is not installed: run `npm install`/);
  expect(notices).toEqual([]);
  expect(existsSync(join(dir, "never-built", "jeton.devs"))).toBe(false);
});
