/**
 * npm run bench:validate [-- --db sqlite|postgres --tokens N --failure-share F --seconds S]
 *
 * Seeds N users with a token and a PIN, starts `jeton serve` as its own process, then from this process:
 * 1. bare HTTP throughput of the same server (GET /health), the baseline;
 * 2. saturated POST /v1/validate with unique valid passcodes plus a share of failures;
 * 3. latency at a paced 1 000 validations/s.
 * Prints a summary, then one JSON line (the last line).
 */
import autocannon from "autocannon";
import { parseArgs } from "node:util";
import { startServe } from "../tests/support/cli.js";
import { pacedLoad } from "./paced-load.js";
import { benchUser, PasscodeSource, seedUsers } from "./seed.js";
import { createBenchWorkspace } from "./workspace.js";

const { values: args } = parseArgs({
  options: {
    db: { type: "string", default: "sqlite" },
    tokens: { type: "string", default: "10000" },
    "failure-share": { type: "string", default: "0.1" },
    seconds: { type: "string", default: "8" },
    connections: { type: "string", default: "32" },
    /** Directory for a V8 CPU profile of the server (node --cpu-prof), to see what dominates. */
    "profile-dir": { type: "string" },
  },
});
const tokenCount = Number(args.tokens);
const failureShare = Number(args["failure-share"]);
const seconds = Number(args.seconds);
const connections = Number(args.connections);
if (args.db !== "sqlite" && args.db !== "postgres") throw new Error("--db is sqlite or postgres");

const workspace = await createBenchWorkspace(args.db);
/** Failures go to their own users, so lockout never touches the users that get valid passcodes. */
const failureUsers = Math.max(1, Math.round(tokenCount * failureShare));
const passcodes = new PasscodeSource();
let cursor = 0;
let failureCursor = 0;

/** A unique valid passcode (round-robin over the tokens, so one token is never in flight twice), or a failure. */
function nextBody(): string {
  if (Math.random() < failureShare) {
    return JSON.stringify({ user: benchUser(tokenCount + (failureCursor++ % failureUsers)), passcode: passcodes.wrong() });
  }
  const index = cursor++ % tokenCount;
  return JSON.stringify({ user: benchUser(index), passcode: passcodes.valid(index) });
}

function run(options: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

const key = await seedUsers(workspace.location, workspace.masterKey, tokenCount + failureUsers);
const server = await startServe(workspace.environment, args["profile-dir"] ? ["--cpu-prof", `--cpu-prof-dir=${args["profile-dir"]}`] : []);
const counts = { accept: 0, reject: 0, other: 0 };
const validateRequest = (count: boolean): autocannon.Request => ({
  method: "POST",
  path: "/v1/validate",
  headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
  setupRequest: (request) => ({ ...request, body: nextBody() }),
  onResponse: (status, body) => {
    if (!count) return;
    const result = status === 200 ? (JSON.parse(body) as { result: string }).result : "other";
    counts[result === "accept" || result === "reject" ? result : "other"]++;
  },
});

try {
  await run({ url: server.url, connections, duration: 2, requests: [validateRequest(false)] }); // warm-up
  const bare = await run({ url: `${server.url}/health`, connections, duration: seconds });
  const saturated = await run({ url: server.url, connections, duration: seconds, requests: [validateRequest(true)] });
  const paced = await pacedLoad(`${server.url}/v1/validate`, { authorization: `Bearer ${key}`, "content-type": "application/json" }, nextBody, 1000, seconds);

  const validationsPerSecond = Math.round(saturated.requests.average);
  const bareHttpPerSecond = Math.round(bare.requests.average);
  const summary = {
    db: args.db,
    tokens: tokenCount,
    failureShare,
    validationsPerSecond,
    p50Ms: paced.p50Ms,
    p99Ms: paced.p99Ms,
    pacedRatePerSecond: paced.ratePerSecond,
    saturatedP50Ms: saturated.latency.p50,
    saturatedP99Ms: saturated.latency.p99,
    bareHttpPerSecond,
    ratio: Number((validationsPerSecond / bareHttpPerSecond).toFixed(3)),
    acceptedShare: Number((counts.accept / (counts.accept + counts.reject + counts.other)).toFixed(3)),
    errors: saturated.errors + saturated.non2xx + paced.errors,
  };
  console.log(
    `${args.db}: ${validationsPerSecond} validations/s (bare HTTP ${bareHttpPerSecond}/s, ratio ${summary.ratio}); ` +
      `at 1000/s p50 ${summary.p50Ms} ms, p99 ${summary.p99Ms} ms; accepted ${counts.accept}, rejected ${counts.reject}, other ${counts.other}`,
  );
  console.log(JSON.stringify(summary));
} finally {
  await server.stop();
  await workspace.remove();
}
