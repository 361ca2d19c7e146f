/**
 * npm run bench:radius [-- --tokens N --requests R --rounds K --in-flight P --timeout-seconds T --profile-dir D]
 *
 * Accepted Access-Requests per second, driven by Debian's radclient (at most P ≤ 255 in flight):
 * - Jeton: `jeton serve` with JETON_RADIUS_PORT on SQLite (durable state: every accept consumes its
 *   step), each request carrying PIN + a unique valid code and a Message-Authenticator;
 * - the baseline, in the same run and with the same load: Debian's FreeRADIUS with rlm_totp (30 s codes,
 *   no PIN store, no replay state) from a temporary raddb on a loopback port. Skipped, with a message,
 *   when FreeRADIUS is not installed.
 * Both servers run side by side and are driven in turn, K rounds of R requests each (Jeton, then
 * FreeRADIUS), so a moment when the shared machine is slow touches both; each side's figure is the median
 * of its rounds. Each round also reports the server's CPU per accept and radclient's own CPU share, which
 * tell a slow server from a saturated client, and the CPU share of every other process of the machine,
 * which tells a machine that was not the benchmark's alone. Prints a summary, then one JSON line (the last line) with
 * `ratio` = Jeton / FreeRADIUS.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startServe } from "../tests/support/cli.js";
import { addRadiusClient } from "../validator/operations/radius-clients.js";
import { masterKeyFrom } from "../validator/secrets/master-key.js";
import { openValidator } from "../validator/validator.js";
import { HostSteal } from "./host-steal.js";
import { cpuPer, endedChildrenCpuSeconds, ownCpuSeconds, processCpuSeconds } from "./process-cpu.js";
import { benchSeed, benchUser, PasscodeSource, seedUsers } from "./seed.js";
import { createBenchWorkspace } from "./workspace.js";

const { values: args } = parseArgs({
  options: {
    tokens: { type: "string", default: "5000" },
    requests: { type: "string", default: "10000" },
    rounds: { type: "string", default: "3" },
    "in-flight": { type: "string", default: "255" },
    /** radclient's retransmission timeout: long, so a busy shared machine measures capacity, not retries. */
    "timeout-seconds": { type: "string", default: "20" },
    /** Directory for a V8 CPU profile of the Jeton server (node --cpu-prof), to see what dominates. */
    "profile-dir": { type: "string" },
  },
});
const tokenCount = Number(args.tokens);
const requestCount = Number(args.requests);
const rounds = Number(args.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error("--rounds is a positive integer");
const inFlight = Math.min(255, Number(args["in-flight"]));
const timeoutSeconds = Number(args["timeout-seconds"]);
const radclient = "/usr/bin/radclient";
const freeradius = "/usr/sbin/freeradius";
if (!existsSync(radclient)) throw new Error(`${radclient} is missing: install Debian's freeradius-utils`);

interface Run {
  accepted: number;
  rejected: number;
  lost: number;
  /** Answered with Access-Challenge (a code that fell outside the direct window after a lost reply). */
  challenged: number;
  seconds: number;
  acceptedPerSecond: number;
  /** CPU the server process used (all its threads) per accepted request: independent of radclient's speed. */
  serverCpuMicrosPerAccept: number;
  /** Of the machine's CPU time during the round, the share a shared host gave to other guests. */
  hostStealShare: number;
  /**
   * radclient's CPU time over the round's wall time: near 1, the client used a whole core (it polls while
   * it still has requests to send), so it bounded the round and left the server the other core only.
   */
  radclientCpuShare: number;
  /**
   * CPU time of every other process of the machine (all but the server, radclient and this bench) over
   * the round's wall time and all cores: near 0, the two servers had the machine to themselves; else
   * both figures (and the ratio) are lower than the machine's own.
   */
  otherProcessesCpuShare: number;
}

/** Sends every request of `file` with radclient to the server of process `serverPid` and counts what came back. */
async function drive(file: string, requests: number, port: number, secret: string, serverPid: number): Promise<Run> {
  const machine = new HostSteal();
  const clientCpuBefore = endedChildrenCpuSeconds();
  const ownCpuBefore = ownCpuSeconds();
  const serverCpuBefore = processCpuSeconds(serverPid);
  const { result, cpuMicrosEach } = await cpuPer([serverPid], () => radclientRun(file, requests, port, secret), (run) => run.accepted);
  const clientCpu = endedChildrenCpuSeconds() - clientCpuBefore;
  const othersCpu = machine.busySeconds() - clientCpu - (ownCpuSeconds() - ownCpuBefore) - (processCpuSeconds(serverPid) - serverCpuBefore);
  const share = (seconds: number, cores = 1) => Number(Math.max(0, seconds / (result.seconds * cores)).toFixed(2));
  return {
    ...result,
    serverCpuMicrosPerAccept: cpuMicrosEach,
    hostStealShare: machine.share(),
    radclientCpuShare: share(clientCpu),
    otherProcessesCpuShare: share(othersCpu, availableParallelism()),
  };
}

function radclientRun(file: string, requests: number, port: number, secret: string): Promise<Omit<Run, "serverCpuMicrosPerAccept" | "hostStealShare" | "radclientCpuShare" | "otherProcessesCpuShare">> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    execFile(radclient, ["-f", file, "-p", String(inFlight), "-q", "-s", "-r", "3", "-t", String(timeoutSeconds), "--", `127.0.0.1:${port}`, "auth", secret], { maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const count = (label: string) => Number(new RegExp(`${label}\\s*:\\s*(\\d+)`).exec(stdout)?.[1] ?? NaN);
      const accepted = count("Accepted");
      const rejected = count("Rejected");
      const lost = count("Lost");
      const run = { accepted, rejected, lost, challenged: requests - accepted - rejected - lost, seconds: Number(seconds.toFixed(3)) };
      if (Number.isNaN(run.accepted)) return reject(new Error(`radclient gave no summary: ${error?.message ?? ""} ${stdout} ${stderr}`));
      resolve({ ...run, acceptedPerSecond: Math.round(run.accepted / seconds) });
    });
  });
}

/** radclient's input: one request per paragraph. */
function requestFile(directory: string, name: string, count: number, password: (index: number) => string): string {
  const lines: string[] = [];
  for (let request = 0; request < count; request++) {
    const index = request % tokenCount;
    lines.push(`User-Name = "${benchUser(index)}"\nUser-Password = "${password(index)}"\nMessage-Authenticator = 0x00\n`);
  }
  const file = join(directory, name);
  writeFileSync(file, lines.join("\n"));
  return file;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : Math.round((sorted[middle - 1]! + sorted[middle]!) / 2);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** RFC 6238 with SHA-1 and 30 s steps, as rlm_totp computes it. */
function totp30(seed: Buffer, unixMillis: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixMillis / 30_000)));
  const mac = createHmac("sha1", seed).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

/** A minimal raddb: one loopback client, the users' TOTP keys in a users file, files + totp. */
function writeRaddb(directory: string, port: number, secret: string): void {
  writeFileSync(join(directory, "dictionary"), "$INCLUDE /usr/share/freeradius/dictionary\n");
  const users: string[] = [];
  for (let index = 0; index < tokenCount; index++) users.push(`${benchUser(index)} TOTP-Key := 0x${benchSeed(index).subarray(0, 20).toString("hex")}`);
  writeFileSync(join(directory, "users"), users.join("\n") + "\n");
  writeFileSync(
    join(directory, "radiusd.conf"),
    `prefix = /usr
raddbdir = ${directory}
confdir = \${raddbdir}
run_dir = \${raddbdir}
logdir = \${raddbdir}
libdir = /usr/lib/freeradius
pidfile = \${run_dir}/radiusd.pid
name = freeradius
max_request_time = 30
cleanup_delay = 5
max_requests = 65536
hostname_lookups = no
log {
  destination = stderr
  auth = no
}
security {
  allow_core_dumps = no
  max_attributes = 200
  reject_delay = 0
  status_server = yes
}
thread pool {
  start_servers = 4
  max_servers = 4
  min_spare_servers = 1
  max_spare_servers = 4
  max_requests_per_server = 0
}
client loopback {
  ipaddr = 127.0.0.1
  secret = ${secret}
}
modules {
  totp {
  }
  files {
    filename = \${confdir}/users
  }
}
server default {
  listen {
    type = auth
    ipaddr = 127.0.0.1
    port = ${port}
    # The receive buffer Jeton asks for (validator/radius/server.ts): 255 requests in flight overflow the
    # default one now and then, and each drop stalls a run for radclient's timeout.
    recv_buff = 4194304
  }
  authorize {
    files
    update request {
      &TOTP-Password := &User-Password
    }
    update control {
      &Auth-Type := totp
    }
  }
  authenticate {
    Auth-Type totp {
      totp
    }
  }
}
`,
  );
}

/** Starts FreeRADIUS in the foreground and waits until it answers Status-Server. */
async function startFreeradius(directory: string, port: number, secret: string): Promise<ChildProcess> {
  const child = spawn(freeradius, ["-f", "-d", directory, "-n", "radiusd"], { stdio: ["ignore", "ignore", "pipe"] });
  let output = "";
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  for (let attempt = 0; attempt < 60; attempt++) {
    if (child.exitCode !== null) throw new Error(`FreeRADIUS exited: ${output}`);
    const answered = await new Promise<boolean>((resolve) => {
      const probe = execFile(radclient, ["-r", "1", "-t", "1", "--", `127.0.0.1:${port}`, "status", secret], (error) => resolve(!error));
      probe.stdin?.end("Message-Authenticator = 0x00\n");
    });
    if (answered) return child;
  }
  child.kill();
  throw new Error(`FreeRADIUS did not answer: ${output}`);
}

const directory = mkdtempSync(join(tmpdir(), "jeton-bench-radius-"));
const workspace = await createBenchWorkspace("sqlite");
const secret = randomBytes(24).toString("base64url");
let server: Awaited<ReturnType<typeof startServe>> | null = null;
let peer: ChildProcess | null = null;
try {
  await seedUsers(workspace.location, workspace.masterKey, tokenCount);
  const ctx = await openValidator({ database: workspace.location, masterKey: masterKeyFrom(workspace.masterKey) });
  await addRadiusClient(ctx, { id: "bench", role: "operator", source: "bench" }, { name: "bench", address: "127.0.0.1", secret, requireMessageAuthenticator: true, language: "en", prompts: {} });
  await ctx.database.close();

  server = await startServe({ ...workspace.environment, JETON_RADIUS_PORT: "0" }, args["profile-dir"] ? ["--cpu-prof", `--cpu-prof-dir=${args["profile-dir"]}`] : [], undefined, {
    logFile: join(workspace.directory, "server.log"),
  });
  const jetonPort = Number(/RADIUS listening on udp:\/\/127\.0\.0\.1:(\d+)/.exec(server.output())![1]);
  const passcodes = new PasscodeSource();
  // Each request a unique valid PIN + code (see PasscodeSource), the warm-up's too.
  const jetonPid = server.child.pid!;
  const jetonRound = (name: string, count: number) => drive(requestFile(directory, name, count, (index) => passcodes.valid(index)), count, jetonPort, secret, jetonPid);

  let freeradiusRound: ((name: string, count: number) => Promise<Run>) | null = null;
  if (existsSync(freeradius)) {
    const raddb = join(directory, "raddb");
    const port = await freePort();
    mkdirSync(raddb);
    writeRaddb(raddb, port, secret);
    peer = await startFreeradius(raddb, port, secret);
    const peerPid = peer.pid!;
    freeradiusRound = async (name, count) => {
      // Codes of the current 30 s step (FreeRADIUS keeps no replay state, so they may repeat), with at
      // least 5 s of the step left: rlm_totp has no look-back, and a step ending mid-run would turn the
      // rest into rejects.
      const left = 30_000 - (Date.now() % 30_000);
      if (left < 5_000) await new Promise((resolve) => setTimeout(resolve, left + 50));
      const now = Date.now();
      return drive(requestFile(directory, name, count, (index) => totp30(benchSeed(index).subarray(0, 20), now)), count, port, secret, peerPid);
    };
  } else {
    console.log(`FreeRADIUS baseline skipped: ${freeradius} is missing (Debian package freeradius)`);
  }

  const warmUp = Math.min(2000, tokenCount);
  await jetonRound("jeton-warm-up", warmUp);
  await freeradiusRound?.("freeradius-warm-up", warmUp);
  const steal = new HostSteal();
  const jetonRuns: Run[] = [];
  const freeradiusRuns: Run[] = [];
  for (let round = 1; round <= rounds; round++) {
    jetonRuns.push(await jetonRound(`jeton-${round}`, requestCount));
    if (freeradiusRound) freeradiusRuns.push(await freeradiusRound(`freeradius-${round}`, requestCount));
  }

  const jetonAcceptedPerSecond = median(jetonRuns.map((run) => run.acceptedPerSecond));
  const freeradiusAcceptedPerSecond = freeradiusRound ? median(freeradiusRuns.map((run) => run.acceptedPerSecond)) : null;
  const total = (runs: Run[], field: "accepted" | "rejected" | "challenged" | "lost") => runs.reduce((sum, run) => sum + run[field], 0);
  const summary = {
    tokens: tokenCount,
    requests: requestCount,
    rounds,
    inFlight,
    db: "sqlite",
    jeton: jetonRuns,
    freeradius: freeradiusRound ? freeradiusRuns : null,
    jetonAcceptedPerSecond,
    freeradiusAcceptedPerSecond,
    ratio: freeradiusAcceptedPerSecond ? Number((jetonAcceptedPerSecond / freeradiusAcceptedPerSecond).toFixed(3)) : null,
    jetonCpuMicrosPerAccept: median(jetonRuns.map((run) => run.serverCpuMicrosPerAccept)),
    freeradiusCpuMicrosPerAccept: freeradiusRound ? median(freeradiusRuns.map((run) => run.serverCpuMicrosPerAccept)) : null,
    hostStealShare: steal.share(),
  };
  const perSecond = (runs: Run[]) => runs.map((run) => run.acceptedPerSecond).join(" / ");
  const cpu = (micros: number | null) => `${micros} µs of server CPU per accept`;
  const percent = (runs: Run[], field: "radclientCpuShare" | "otherProcessesCpuShare") => runs.map((run) => `${Math.round(run[field] * 100)} %`).join(" / ");
  const client = (runs: Run[]) => `radclient busy ${percent(runs, "radclientCpuShare")} of a core; other processes ${percent(runs, "otherProcessesCpuShare")} of the machine`;
  console.log(
    `Jeton RADIUS (SQLite, PIN + code): median ${jetonAcceptedPerSecond} accepted/s (rounds ${perSecond(jetonRuns)}; ${total(jetonRuns, "accepted")} accepted, ` +
      `${total(jetonRuns, "rejected")} rejected, ${total(jetonRuns, "challenged")} challenged, ${total(jetonRuns, "lost")} lost; ${cpu(summary.jetonCpuMicrosPerAccept)}; ${client(jetonRuns)})` +
      (freeradiusRound
        ? `; FreeRADIUS rlm_totp: median ${freeradiusAcceptedPerSecond} accepted/s (rounds ${perSecond(freeradiusRuns)}; ${total(freeradiusRuns, "accepted")} accepted, ` +
          `${total(freeradiusRuns, "rejected")} rejected, ${total(freeradiusRuns, "lost")} lost; ${cpu(summary.freeradiusCpuMicrosPerAccept)}; ${client(freeradiusRuns)}); ratio ${summary.ratio}`
        : "") +
      `; host steal ${(summary.hostStealShare * 100).toFixed(1)} % of the machine's CPU time`,
  );
  console.log(JSON.stringify(summary));
} finally {
  await server?.stop();
  if (peer && peer.exitCode === null) {
    const exited = new Promise((resolve) => peer!.once("exit", resolve));
    peer.kill("SIGTERM");
    await exited;
  }
  await workspace.remove();
  rmSync(directory, { recursive: true, force: true });
}
