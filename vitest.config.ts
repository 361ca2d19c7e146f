import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // VMs and database servers are shared machine resources: two workers match the two cores.
    maxWorkers: 2,
  },
});
