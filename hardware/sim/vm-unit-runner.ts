// Runs an on-VM unit-test image (firmware/test/*.vmtest.ts, built to firmware/dist/test/*.devs)
// in `devs run --test --test-self-exit` mode: no bus, GC stress on, the process exits with the
// @devicescript/test result. Returns the per-test outcome parsed from the VM log.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { devsCliScript } from "../../common/token-service/devs-cli.js";

export interface VmUnitResult {
  exitCode: number;
  total: number;
  pass: number;
  error: number;
  /** "suite > test" names that failed, with the assertion message */
  failures: string[];
  log: string[];
}

export function runVmUnitImage(image: string, timeoutMs = 60_000): Promise<VmUnitResult> {
  const cwd = mkdtempSync(join(tmpdir(), "jeton-vmunit-"));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [devsCliScript(), "run", image, "--test", "--test-self-exit", "-T", String(timeoutMs)],
      { cwd, timeout: timeoutMs + 10_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NO_COLOR: "1" } },
      (err, stdout, stderr) => {
        rmSync(cwd, { recursive: true, force: true });
        // eslint-disable-next-line no-control-regex
        const log = (stdout + stderr).split("\n").map((l) => l.replace(/\u001b\[[0-9;]*m/g, "").trimEnd());
        const summary = log.map((l) => /tests: (\d+), pass: (\d+), error: (\d+)/.exec(l)).find((m) => m);
        const failures: string[] = [];
        let suite = "";
        let test = "";
        for (const line of log) {
          const body = line.replace(/^WASM> /, "");
          if (/^\S/.test(body) && !body.startsWith("Exception") && !body.startsWith("message")) suite = body;
          else if (/^ {2}\S/.test(body)) test = body.trim();
          const m = /^\s*message: (.*)$/.exec(body);
          if (m) failures.push(`${suite} > ${test}: ${m[1]}`);
        }
        resolve({
          exitCode: !err ? 0 : typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1,
          total: summary ? Number(summary[1]) : 0,
          pass: summary ? Number(summary[2]) : 0,
          error: summary ? Number(summary[3]) : 0,
          failures,
          log,
        });
      },
    );
  });
}
