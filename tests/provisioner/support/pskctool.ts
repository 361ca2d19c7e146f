// Debian's pskctool (libpskc) as the independent judge of our PSKC files. The test installs it from
// the Debian packages when it can (root with apt-get); otherwise the tests that need it say so and
// are skipped. Note: `pskctool --validate` exits 0 even for an invalid file — it prints OK or FAIL.
import { execFileSync, spawnSync } from "node:child_process";

function installed(): boolean {
  return spawnSync("pskctool", ["--version"], { stdio: "ignore" }).status === 0;
}

/** Whether pskctool is available, installing it first if possible; the reason when it is not. */
export function ensurePskctool(): { available: true } | { available: false; reason: string } {
  if (installed()) return { available: true };
  if (process.getuid?.() !== 0) return { available: false, reason: "pskctool is not installed and the tests do not run as root (apt-get install pskctool)" };
  const apt = (args: string[]) => spawnSync("apt-get", args, { stdio: "ignore", timeout: 240_000, env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } }).status === 0;
  if (!apt(["install", "-y", "--no-install-recommends", "pskctool"])) apt(["update"]) && apt(["install", "-y", "--no-install-recommends", "pskctool"]);
  return installed() ? { available: true } : { available: false, reason: "pskctool could not be installed with apt-get (offline, or not Debian)" };
}

/** pskctool's verdict on a file: its schema validation, "OK" or "FAIL" with libxml2's reasons. */
export function pskctoolValidate(file: string): { ok: boolean; output: string } {
  const result = spawnSync("pskctool", ["--validate", file], { encoding: "utf8" });
  const output = `${result.stdout}${result.stderr}`;
  return { ok: /^OK$/m.test(result.stdout) && !/FAIL/.test(result.stdout), output };
}

export function pskctoolInfo(file: string): string {
  return execFileSync("pskctool", ["--info", file], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
}
