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
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startServe, type ServerProcess } from "../tests/support/cli.js";
import { validatePasscode } from "../validator/operations/validation.js";
import { masterKeyFrom } from "../validator/secrets/master-key.js";
import { openValidator } from "../validator/validator.js";
import { pacedLoad } from "./paced-load.js";
import { codeAt } from "../validator/policy/totp.js";
import { BENCH_PIN, benchParameters, benchSeed, benchUser, PasscodeSource, seedUsers, tokenIndexOf } from "./seed.js";
import { createBenchWorkspace } from "./workspace.js";
import { HostSteal } from "./host-steal.js";
import { cpuPer } from "./process-cpu.js";
import { runWrk, writeBodies, type WrkLoad, type WrkResult } from "./wrk.js";

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
/** More validations per second than the servers answer together: a wrk run never runs out of bodies. */
const preparedPerSecond = 20_000;

const workspace = await createBenchWorkspace(args.db);
/** Failures go to their own users (at least one per lane), so lockout never touches the users that get valid passcodes. */
const failureUsers = Math.max(instances, Math.round(tokenCount * failureShare));
const passcodes = new PasscodeSource();

interface Attempt {
  user: string;
  passcode: string;
}

/**
 * Unique valid passcodes (round-robin over the lane's tokens, so one token is never in flight twice), or a
 * failure. Lane i of n owns the tokens and failure users whose index is i modulo n, so instances driven at
 * once never race for a token's next step.
 */
class Attempts {
  private cursor = 0;
  private failureCursor = 0;
  constructor(
    private readonly lane = 0,
    private readonly lanes = 1,
  ) {}

  next(): Attempt {
    if (Math.random() < failureShare) {
      const failureUser = this.lane + this.lanes * (this.failureCursor++ % Math.ceil((failureUsers - this.lane) / this.lanes));
      return { user: benchUser(tokenCount + failureUser), passcode: passcodes.wrong() };
    }
    const index = this.lane + this.lanes * (this.cursor++ % Math.ceil((tokenCount - this.lane) / this.lanes));
    return { user: benchUser(index), passcode: passcodes.valid(index) };
  }
}

/**
 * wrk on every instance at once, each with bodies for its own lane, the connections shared out;
 * requests/s summed. Afterwards the passcode source learns each token's step from the database, since wrk
 * sends only part of what was prepared.
 */
async function spread(servers: ServerProcess[], load: (server: ServerProcess, lane: number) => Partial<WrkLoad>, phaseSeconds = seconds) {
  const { result: results, cpuMicrosEach } = await cpuPer(
    servers.map((server) => server.child.pid!),
    (): Promise<WrkResult[]> =>
      Promise.all(
        servers.map((server, lane) => runWrk({ url: server.url, connections: Math.max(1, Math.round(connections / servers.length)), seconds: phaseSeconds, headers, ...load(server, lane) })),
      ),
    (finished) => finished.reduce((sum, result) => sum + result.requests, 0),
  );
  for (const result of results) {
    counts.accept += result.accepts;
    counts.reject += result.rejects;
    counts.challenge += result.challenges;
    counts.other += result.others;
  }
  if (results.some((result) => result.accepts + result.rejects + result.challenges + result.others > 0)) await resumePasscodes();
  return {
    perSecond: results.reduce((sum, result) => sum + result.perSecond, 0),
    /** CPU the servers used (all their threads) per request answered: independent of the client's speed. */
    serverCpuMicrosEach: cpuMicrosEach,
    p50Ms: Math.max(...results.map((result) => result.p50Ms)),
    p99Ms: Math.max(...results.map((result) => result.p99Ms)),
    errors: results.reduce((sum, result) => sum + result.errors + result.others, 0),
  };
}

/** A file of validation bodies for one lane, enough for `phaseSeconds` at `preparedPerSecond`. */
function validationBodies(phase: string, lane: number, phaseSeconds: number): string {
  const attempts = new Attempts(lane, instances);
  const file = join(workspace.directory, `${phase}-${lane}.bodies`);
  writeBodies(
    file,
    Array.from({ length: Math.ceil((preparedPerSecond * phaseSeconds) / instances) }, () => JSON.stringify(attempts.next())),
  );
  return file;
}

/** Each token's last accepted step and learned offset, as the servers stored them. */
async function resumePasscodes() {
  await new Promise((resolve) => setTimeout(resolve, 300)); // answers still in flight when wrk stopped
  const ctx = await openValidator({ database: workspace.location, masterKey: masterKeyFrom(workspace.masterKey) });
  try {
    const rows = await ctx.database.db.selectFrom("tokens").select(["serial", "offset_steps", "last_step"]).where("last_step", "is not", null).execute();
    passcodes.resume(rows.map((row) => ({ index: tokenIndexOf(row.serial), lastStep: row.last_step!, offset: row.offset_steps })));
  } finally {
    await ctx.database.close();
  }
}

const key = await seedUsers(workspace.location, workspace.masterKey, tokenCount + failureUsers);
const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
const counts = { accept: 0, reject: 0, challenge: 0, other: 0 };
const tally = (result: string) => counts[result === "accept" || result === "reject" || result === "challenge" ? result : "other"]++;

const steal = new HostSteal();
// 1. In-process: `connections` attempts in flight at once, as the HTTP clients keep.
const inProcess = await (async () => {
  const ctx = await openValidator({ database: workspace.location, masterKey: masterKeyFrom(workspace.masterKey) });
  const actor = { id: "bench", role: "portal", source: "in-process" };
  const attempts = new Attempts();
  try {
    const lane = async (until: number) => {
      let done = 0;
      while (performance.now() < until) {
        const attempt = attempts.next();
        tally((await validatePasscode(ctx, actor, attempt.user, attempt.passcode)).result);
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

try {
  const warmUpSeconds = 2;
  const validationsAt = (server: ServerProcess) => `${server.url}/v1/validate`;
  await spread(servers, (server, lane) => ({ url: validationsAt(server), bodiesFile: validationBodies("warm-up", lane, warmUpSeconds) }), warmUpSeconds);
  const bare = await spread(servers, (server) => ({ url: `${server.url}/health` }));
  const saturated = await spread(servers, (server, lane) => ({ url: validationsAt(server), bodiesFile: validationBodies("saturated", lane, seconds) }));
  const pacedAttempts = new Attempts();
  const paced = await pacedLoad(
    servers.map(validationsAt),
    headers,
    () => ({ body: JSON.stringify(pacedAttempts.next()), onResult: tally }),
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
    serverCpuMicrosPerValidation: saturated.serverCpuMicrosEach,
    serverCpuMicrosPerBareRequest: bare.serverCpuMicrosEach,
    saturatedP50Ms: saturated.p50Ms,
    saturatedP99Ms: saturated.p99Ms,
    acceptedShare: Number((counts.accept / (counts.accept + counts.reject + counts.challenge + counts.other)).toFixed(3)),
    challenged: counts.challenge,
    errors: saturated.errors + paced.errors,
    hostStealShare: steal.share(),
    ...replay,
  };
  console.log(
    `${args.db} × ${instances}: ${validationsPerSecond} validations/s over HTTP, ${inProcess}/s in-process (bare HTTP ${bareHttpPerSecond}/s, ratio ${summary.ratio}; ` +
      `server CPU ${summary.serverCpuMicrosPerValidation} µs per validation, ${summary.serverCpuMicrosPerBareRequest} µs per bare request); ` +
      `at 1000/s p50 ${summary.p50Ms} ms, p99 ${summary.p99Ms} ms; accepted ${counts.accept}, rejected ${counts.reject}, challenged ${counts.challenge}, other ${counts.other}; ` +
      `replay check: ${replay.acceptedTwice} (token, step) accepted twice in the audit log, ${replay.replaysAccepted} of ${replay.replaysSent} replays accepted; ` +
      `host steal ${(summary.hostStealShare * 100).toFixed(1)} % of the machine's CPU time`,
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
 * the last 2 000 accepted passcodes, rebuilt from the audit log, are sent again (each to the instance after
 * its token's lane, so to another instance than the one that accepted it when there are several) and must
 * all be refused.
 */
async function replayCheck(servers: ServerProcess[]) {
  const ctx = await openValidator({ database: workspace.location, masterKey: masterKeyFrom(workspace.masterKey) });
  const accepts = await (async () => {
    try {
      const rows = await ctx.database.db.selectFrom("audit_log").select(["serial", "detail"]).where("result", "=", "accept").where("event", "=", "validate").orderBy("id").execute();
      return rows.map((row) => ({ index: tokenIndexOf(row.serial!), step: (JSON.parse(row.detail ?? "{}") as { step: number }).step }));
    } finally {
      await ctx.database.close();
    }
  })();
  const seen = new Set(accepts.map((accept) => `${accept.index}/${accept.step}`));
  const sample = accepts.slice(-2000);
  const replays = await Promise.all(
    sample.map(async ({ index, step }) => {
      const attempt = { user: benchUser(index), passcode: BENCH_PIN + codeAt(benchSeed(index), step, benchParameters) };
      const response = await fetch(`${servers[(index + 1) % servers.length]!.url}/v1/validate`, { method: "POST", headers, body: JSON.stringify(attempt) });
      return ((await response.json()) as { result: string }).result;
    }),
  );
  return { auditAccepts: accepts.length, acceptedTwice: accepts.length - seen.size, replaysSent: sample.length, replaysAccepted: replays.filter((result) => result === "accept").length };
}
