/**
 * npm run crash:validate [-- --db sqlite|postgres --users N --kill-after-accepts N]
 * kill -9 the validator under load, restart it, and prove nothing accepted before the crash is accepted
 * again, that counters agree with the audit log and that the database is intact. Exit code 1 if not.
 */
import { parseArgs } from "node:util";
import { runCrashCheck } from "./crash-check.js";

const { values: args } = parseArgs({
  options: {
    db: { type: "string", default: "sqlite" },
    users: { type: "string", default: "2000" },
    "kill-after-accepts": { type: "string", default: "3000" },
    concurrency: { type: "string", default: "32" },
  },
});
if (args.db !== "sqlite" && args.db !== "postgres") throw new Error("--db is sqlite or postgres");

const report = await runCrashCheck({
  dialect: args.db,
  users: Number(args.users),
  killAfterAccepts: Number(args["kill-after-accepts"]),
  concurrency: Number(args.concurrency),
  failureShare: 0.1,
});
const passed =
  report.acceptedAgain === 0 &&
  report.tokenStepMismatches.length === 0 &&
  report.failureCountMismatches.length === 0 &&
  report.acceptsMissingFromAudit === 0 &&
  report.integrity.startsWith("ok");
console.log(
  [
    `${report.dialect}: ${report.requestsSent} requests, validator killed with SIGKILL after ${report.acceptsSeenBeforeKill} accepts (${report.inFlightAtKill} requests in flight)`,
    `replayed ${report.replayedAfterRestart} accepted passcodes after restart: ${report.acceptedAgain} accepted again`,
    `audit log: ${report.auditAccepts} accepts (the client saw ${report.acceptsSeenBeforeKill}; missing from audit: ${report.acceptsMissingFromAudit})`,
    `last accepted step of ${report.tokensChecked} tokens vs audit: ${report.tokenStepMismatches.length} mismatches ${report.tokenStepMismatches.slice(0, 3).join(", ")}`,
    `failure counts of ${report.usersChecked} users vs audit: ${report.failureCountMismatches.length} mismatches ${report.failureCountMismatches.slice(0, 3).join(", ")}`,
    `integrity check: ${report.integrity}`,
    passed ? "PASSED" : "FAILED",
  ].join("\n"),
);
console.log(JSON.stringify({ ...report, passed }));
process.exitCode = passed ? 0 : 1;
