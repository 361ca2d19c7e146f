/**
 * npm run bench:validate [-- --db sqlite|postgres --instances N --tokens N --failure-share F --seconds S --log-level L]
 *
 * Seeds N users with a token and a PIN, then, all in one run:
 * 1. the same validations driven in-process through validator/operations/ (no HTTP), the server's ceiling;
 * 2. starts `jeton serve` (--instances of them on one database) as their own processes and measures bare
 *    HTTP throughput of the same servers (GET /health), the baseline;
 * 3. saturated POST /v1/validate with unique valid passcodes plus a share of failures on their own users,
 *    spread over the instances;
 * 4. latency at a paced 1 000 validations/s;
 * 5. the replay check: every accepted (token, step) is in the audit log once, and accepted passcodes sent
 *    again (to another instance when there are several) are all refused.
 * Prints a summary, then one JSON line (the last line).
 */
import autocannon from "autocannon";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startServe, type ServerProcess } from "../tests/support/cli.js";
import { validatePasscode } from "../validator/operations/validation.js";
import { masterKeyFrom } from "../validator/secrets/master-key.js";
import { openValidator } from "../validator/validator.js";
import { pacedLoad } from "./paced-load.js";
import { benchUser, PasscodeSource, seedUsers } from "./seed.js";
import { createBenchWorkspace } from "./workspace.js";

const { values: args } = parseArgs({
  options: {
    db: { type: "string", default: "sqlite" },
    instances: { type: "string", default: "1" },
    tokens: { type: "string", default: "10000" },
    "failure-share": { type: "string", default: "0.1" },
    seconds: { type: "string", default: "8" },
    connections: { type: "string", default: "32" },
    /** The servers' JETON_LOG_LEVEL (info, their default, logs a line per request and per decision). */
    "log-level": { type: "string", default: "info" },
    /** Directory for V8 CPU profiles of the servers (node --cpu-prof), to see what dominates. */
    "profile-dir": { type: "string" },
  },
});
const tokenCount = Number(args.tokens);
const failureShare = Number(args["failure-share"]);
const seconds = Number(args.seconds);
const connections = Number(args.connections);
const instances = Number(args.instances);
if (args.db !== "sqlite" && args.db !== "postgres") throw new Error("--db is sqlite or postgres");
if (!Number.isInteger(instances) || instances < 1) throw new Error("--instances is a positive integer");

const workspace = await createBenchWorkspace(args.db);
/** Failures go to their own users, so lockout never touches the users that get valid passcodes. */
const failureUsers = Math.max(1, Math.round(tokenCount * failureShare));
const passcodes = new PasscodeSource();
let cursor = 0;
let failureCursor = 0;

interface Attempt {
  user: string;
  passcode: string;
}

/** A unique valid passcode (round-robin over the tokens, so one token is never in flight twice), or a failure. */
function nextAttempt(): Attempt {
  if (Math.random() < failureShare) {
    return { user: benchUser(tokenCount + (failureCursor++ % failureUsers)), passcode: passcodes.wrong() };
  }
  const index = cursor++ % tokenCount;
  return { user: benchUser(index), passcode: passcodes.valid(index) };
}

function run(options: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/** One autocannon per instance at once, the connections shared out; requests/s summed. */
async function spread(servers: ServerProcess[], options: (server: ServerProcess) => autocannon.Options) {
  const results = await Promise.all(servers.map((server) => run({ connections: Math.max(1, Math.round(connections / servers.length)), duration: seconds, ...options(server) })));
  return {
    perSecond: Math.round(results.reduce((sum, result) => sum + result.requests.average, 0)),
    p50Ms: Math.max(...results.map((result) => result.latency.p50)),
    p99Ms: Math.max(...results.map((result) => result.latency.p99)),
    errors: results.reduce((sum, result) => sum + result.errors + result.non2xx, 0),
  };
}

const key = await seedUsers(workspace.location, workspace.masterKey, tokenCount + failureUsers);
const counts = { accept: 0, reject: 0, other: 0 };
/** Accepted passcodes, for the replay check. */
const accepted: Attempt[] = [];
const tally = (result: string, attempt: Attempt) => {
  counts[result === "accept" || result === "reject" ? result : "other"]++;
  if (result === "accept") accepted.push(attempt);
};

// 1. In-process: `connections` attempts in flight at once, as the HTTP clients keep.
const inProcess = await (async () => {
  const ctx = await openValidator({ database: workspace.location, masterKey: masterKeyFrom(workspace.masterKey) });
  const actor = { id: "bench", role: "portal", source: "in-process" };
  try {
    const lane = async (until: number) => {
      let done = 0;
      while (performance.now() < until) {
        const attempt = nextAttempt();
        tally((await validatePasscode(ctx, actor, attempt.user, attempt.passcode)).result, attempt);
        done++;
      }
      return done;
    };
    await Promise.all(Array.from({ length: connections }, () => lane(performance.now() + 1000))); // warm-up
    const started = performance.now();
    const done = await Promise.all(Array.from({ length: connections }, () => lane(started + seconds * 1000)));
    return Math.round(done.reduce((sum, count) => sum + count, 0) / ((performance.now() - started) / 1000));
  } finally {
    await ctx.database.close();
  }
})();

const nodeArguments = (index: number) => (args["profile-dir"] ? ["--cpu-prof", `--cpu-prof-dir=${args["profile-dir"]}`, `--cpu-prof-name=server-${index}.cpuprofile`] : []);
const servers = await Promise.all(
  Array.from({ length: instances }, (_, index) =>
    startServe({ ...workspace.environment, JETON_LOG_LEVEL: args["log-level"] }, nodeArguments(index), undefined, {
      serveArguments: ["--json"],
      logFile: join(workspace.directory, `server-${index}.log`),
    }),
  ),
);
const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
/** Every answer is tallied, the warm-up's too: the replay check compares all accepts with the audit log. */
const validateRequest: autocannon.Request = {
  method: "POST",
  path: "/v1/validate",
  headers,
  setupRequest: (request, context) => {
    const attempt = nextAttempt();
    (context as { attempt?: Attempt }).attempt = attempt;
    return { ...request, body: JSON.stringify(attempt) };
  },
  onResponse: (status, body, context) => {
    tally(status === 200 ? (JSON.parse(body) as { result: string }).result : "other", (context as { attempt: Attempt }).attempt);
  },
};

try {
  await Promise.all(servers.map((server) => run({ url: server.url, connections, duration: 2, requests: [validateRequest] }))); // warm-up
  const bare = await spread(servers, (server) => ({ url: `${server.url}/health` }));
  const saturated = await spread(servers, (server) => ({ url: server.url, requests: [validateRequest] }));
  const paced = await pacedLoad(
    servers.map((server) => `${server.url}/v1/validate`),
    headers,
    () => {
      const attempt = nextAttempt();
      return { body: JSON.stringify(attempt), onResult: (result) => tally(result, attempt) };
    },
    1000,
    seconds,
  );
  const replay = await replayCheck(servers);

  const validationsPerSecond = saturated.perSecond;
  const bareHttpPerSecond = bare.perSecond;
  const summary = {
    db: args.db,
    instances,
    tokens: tokenCount,
    failureShare,
    validationsPerSecond,
    inProcessPerSecond: inProcess,
    bareHttpPerSecond,
    ratio: Number((validationsPerSecond / bareHttpPerSecond).toFixed(3)),
    p50Ms: paced.p50Ms,
    p99Ms: paced.p99Ms,
    pacedRatePerSecond: paced.ratePerSecond,
    saturatedP50Ms: saturated.p50Ms,
    saturatedP99Ms: saturated.p99Ms,
    acceptedShare: Number((counts.accept / (counts.accept + counts.reject + counts.other)).toFixed(3)),
    errors: saturated.errors + paced.errors,
    ...replay,
  };
  console.log(
    `${args.db} × ${instances}: ${validationsPerSecond} validations/s over HTTP, ${inProcess}/s in-process (bare HTTP ${bareHttpPerSecond}/s, ratio ${summary.ratio}); ` +
      `at 1000/s p50 ${summary.p50Ms} ms, p99 ${summary.p99Ms} ms; accepted ${counts.accept}, rejected ${counts.reject}, other ${counts.other}; ` +
      `replay check: ${replay.acceptedTwice} (token, step) accepted twice in the audit log, ${replay.replaysAccepted} of ${replay.replaysSent} replays accepted`,
  );
  console.log(JSON.stringify(summary));
  // The audit log may hold a few more accepts than the clients saw: answers still in flight when a load phase ends.
  if (replay.acceptedTwice > 0 || replay.replaysAccepted > 0 || replay.auditAccepts < counts.accept) process.exitCode = 1;
} finally {
  await Promise.all(servers.map((server) => server.stop()));
  await workspace.remove();
}

/**
 * Every accepted (token, step) must be in the audit log once, and as often as the clients saw an accept;
 * accepted passcodes sent again (each to another instance than round-robin would pick) are all refused.
 */
async function replayCheck(servers: ServerProcess[]) {
  const sample = accepted.slice(-2000);
  const replays = await Promise.all(
    sample.map(async (attempt, index) => {
      const response = await fetch(`${servers[(index + 1) % servers.length]!.url}/v1/validate`, { method: "POST", headers, body: JSON.stringify(attempt) });
      return ((await response.json()) as { result: string }).result;
    }),
  );
  const ctx = await openValidator({ database: workspace.location, masterKey: masterKeyFrom(workspace.masterKey) });
  try {
    const rows = await ctx.database.db.selectFrom("audit_log").select(["serial", "detail"]).where("result", "=", "accept").where("event", "=", "validate").execute();
    const seen = new Set<string>();
    let acceptedTwice = 0;
    for (const row of rows) {
      const pair = `${row.serial}/${(JSON.parse(row.detail ?? "{}") as { step?: number }).step}`;
      if (seen.has(pair)) acceptedTwice++;
      seen.add(pair);
    }
    return { auditAccepts: rows.length, acceptedTwice, replaysSent: sample.length, replaysAccepted: replays.filter((result) => result === "accept").length };
  } finally {
    await ctx.database.close();
  }
}
