import { describe, expect, it } from "vitest";
import { runCrashCheck } from "../../../bench/crash-check.js";
import { dialects } from "../../support/test-validator.js";

// The same check as `npm run crash:validate`, with a smaller load.
describe.each(dialects)("kill -9 under load on %s", (dialect) => {
  it("accepts nothing twice after a restart; counters agree with the audit log; the database is intact", async () => {
    const report = await runCrashCheck({ dialect, users: 64, killAfterAccepts: 150, concurrency: 16, failureShare: 0.2 });
    expect(report.acceptsSeenBeforeKill).toBe(150);
    expect(report.acceptedAgain).toBe(0);
    expect(report.acceptsMissingFromAudit).toBe(0);
    expect(report.auditAccepts).toBeGreaterThanOrEqual(150);
    expect(report.tokenStepMismatches).toEqual([]);
    expect(report.failureCountMismatches).toEqual([]);
    expect(report.integrity).toMatch(/^ok/);
  });
});
