import { defineConfig } from "vitest/config";
import { captureLog } from "./tests/support/log-guard.js";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // Generous: CLI-driven tests start a Node process per command, slow on a loaded two-core machine.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // VMs and database servers are shared machine resources: two workers match the two cores.
    maxWorkers: 2,
    // Every console line of the suite is kept so the log guard can prove no secret reached a log.
    globalSetup: ["tests/support/log-guard.ts"],
    onConsoleLog(log) {
      captureLog(log);
    },
  },
});
