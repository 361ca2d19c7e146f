/**
 * npm run bench:timing [-- --samples N]
 *
 * Enumeration and timing probe. Passcode path: unknown user, known user with a wrong PIN (and the right
 * code), wrong code (and the right PIN), the same for a user holding two tokens, locked user (right PIN and
 * code), disabled token (right PIN and its code). Challenge path: an answer to an unknown challenge id for
 * an unknown and for a known user. Requests are interleaved round-robin over one keep-alive connection so
 * drift hits every case alike. Prints each case's latency, whether the bodies are byte-identical, and (last
 * line, JSON) the spread of the medians within each path.
 */
import { randomUUID } from "node:crypto";
import { request, Agent } from "node:http";
import { parseArgs } from "node:util";
import BetterSqlite3 from "better-sqlite3";
import { startServe } from "../tests/support/cli.js";
import { codeAt, stepAt } from "../validator/policy/totp.js";
import { BENCH_PIN, benchSeed, benchUser, seedUsers } from "./seed.js";
import { createBenchWorkspace } from "./workspace.js";

const { values: args } = parseArgs({ options: { samples: { type: "string", default: "2000" } } });
const samples = Number(args.samples);
const paths = {
  passcode: ["unknown user", "wrong PIN", "wrong code", "two tokens", "locked", "disabled token"],
  challenge: ["challenge, unknown user", "challenge, known user"],
} as const;
type Case = (typeof paths)[keyof typeof paths][number];
const cases: Case[] = [...paths.passcode, ...paths.challenge];

const workspace = await createBenchWorkspace("sqlite");
if (workspace.location.kind !== "sqlite") throw new Error("the timing probe runs on SQLite");
const file = workspace.location.file;
// One fresh user per wrong attempt, so no attempt is ever throttled by an earlier one.
const known = cases.filter((kind) => kind !== "unknown user" && kind !== "challenge, unknown user");
const base = Object.fromEntries(known.map((kind, index) => [kind, index * samples])) as Record<Case, number>;
const key = await seedUsers(workspace.location, workspace.masterKey, known.length * samples, { from: base["two tokens"], to: base["two tokens"] + samples });
const db = new BetterSqlite3(file);
db.prepare("UPDATE users SET failures = 10, last_failure_at = 0 WHERE CAST(substr(name, 5) AS INTEGER) BETWEEN ? AND ?").run(base.locked, base.locked + samples - 1);
db.prepare("UPDATE tokens SET disabled_at = 0, disabled_reason = 'lost' WHERE serial LIKE 'JT%' AND CAST(substr(serial, 3) AS INTEGER) BETWEEN ? AND ?").run(
  base["disabled token"],
  base["disabled token"] + samples - 1,
);
db.close();

const parameters = { algorithm: "SHA256" as const, digits: 6, period: 60, t0: 0 };
const code = (index: number) => codeAt(benchSeed(index), stepAt(Date.now(), parameters), parameters);
const wrongCode = (index: number) => String((Number(code(index)) + 1) % 1_000_000).padStart(6, "0");
function attempt(kind: Case, sample: number): Record<string, string> {
  const index = base[kind] + sample;
  switch (kind) {
    case "unknown user":
      return { user: `nobody${sample}`, passcode: BENCH_PIN + code(sample) };
    case "wrong PIN":
      return { user: benchUser(index), passcode: "740392" + code(index) };
    case "wrong code":
    case "two tokens":
      return { user: benchUser(index), passcode: BENCH_PIN + wrongCode(index) };
    case "locked":
    case "disabled token":
      return { user: benchUser(index), passcode: BENCH_PIN + code(index) };
    case "challenge, unknown user":
      return { user: `nobody${sample}`, challenge: randomUUID(), response: code(sample) };
    case "challenge, known user":
      return { user: benchUser(index), challenge: randomUUID(), response: code(index) };
  }
}

const server = await startServe(workspace.environment);
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const url = new URL(`${server.url}/v1/validate`);
function timed(body: string): Promise<{ millis: number; text: string }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const outgoing = request(url, { method: "POST", agent, headers: { authorization: `Bearer ${key}`, "content-type": "application/json" } }, (response) => {
      let text = "";
      response.on("data", (chunk) => (text += chunk));
      response.on("end", () => resolve({ millis: Number(process.hrtime.bigint() - started) / 1e6, text }));
    });
    outgoing.on("error", reject);
    outgoing.end(body);
  });
}

const latencies = Object.fromEntries(cases.map((kind) => [kind, [] as number[]])) as Record<Case, number[]>;
const bodies = new Set<string>();
try {
  for (let sample = 0; sample < samples; sample++) {
    for (const kind of cases) {
      const { millis, text } = await timed(JSON.stringify(attempt(kind, sample)));
      if (sample >= samples / 10) latencies[kind].push(millis); // the first tenth warms up
      bodies.add(text);
    }
  }
} finally {
  agent.destroy();
  await server.stop();
  await workspace.remove();
}

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) * p)]!;
const medians = Object.fromEntries(cases.map((kind) => [kind, Number(percentile(latencies[kind], 0.5).toFixed(4))])) as Record<Case, number>;
const spread = (group: readonly Case[]) => {
  const values = group.map((kind) => medians[kind]);
  return Number((((Math.max(...values) - Math.min(...values)) / Math.min(...values)) * 100).toFixed(1));
};
const spreadPercent = { passcode: spread(paths.passcode), challenge: spread(paths.challenge) };
for (const kind of cases) {
  console.log(`${kind.padEnd(24)} median ${medians[kind].toFixed(3)} ms  p90 ${percentile(latencies[kind], 0.9).toFixed(3)} ms`);
}
console.log(`bodies: ${bodies.size === 1 ? "byte-identical" : `${bodies.size} different`} (${[...bodies][0]})`);
for (const [path, percent] of Object.entries(spreadPercent)) {
  console.log(`${path} path: largest difference between medians ${percent} % (target ≤ 10 %)`);
}
console.log(JSON.stringify({ samples, medianMs: medians, spreadPercent, identicalBodies: bodies.size === 1 }));
