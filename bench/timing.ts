/**
 * npm run bench:timing [-- --samples N]
 *
 * Enumeration and timing probe: unknown user, known user with a wrong PIN (and the right code), wrong code
 * (and the right PIN), locked user (right PIN and code), disabled token (right PIN and its code). Requests
 * are interleaved round-robin over one keep-alive connection so drift hits every case alike. Prints each
 * case's latency, whether the bodies are byte-identical, and (last line, JSON) the spread of the medians.
 */
import { request, Agent } from "node:http";
import { parseArgs } from "node:util";
import BetterSqlite3 from "better-sqlite3";
import { startServe } from "../tests/support/cli.js";
import { codeAt, stepAt } from "../validator/policy/totp.js";
import { BENCH_PIN, benchSeed, benchUser, seedUsers } from "./seed.js";
import { createBenchWorkspace } from "./workspace.js";

const { values: args } = parseArgs({ options: { samples: { type: "string", default: "2000" } } });
const samples = Number(args.samples);
const cases = ["unknown user", "wrong PIN", "wrong code", "locked", "disabled token"] as const;
type Case = (typeof cases)[number];

const workspace = await createBenchWorkspace("sqlite");
if (workspace.location.kind !== "sqlite") throw new Error("the timing probe runs on SQLite");
const file = workspace.location.file;
// One fresh user per wrong attempt, so no attempt is ever throttled by an earlier one.
const base: Record<Case, number> = { "unknown user": -1, "wrong PIN": 0, "wrong code": samples, locked: 2 * samples, "disabled token": 3 * samples };
const key = await seedUsers(workspace.location, workspace.masterKey, 4 * samples);
const db = new BetterSqlite3(file);
db.prepare("UPDATE users SET failures = 10, last_failure_at = 0 WHERE CAST(substr(name, 5) AS INTEGER) BETWEEN ? AND ?").run(2 * samples, 3 * samples - 1);
db.prepare("UPDATE tokens SET disabled_at = 0, disabled_reason = 'lost' WHERE CAST(substr(serial, 3) AS INTEGER) >= ?").run(3 * samples);
db.close();

const parameters = { algorithm: "SHA256" as const, digits: 6, period: 60, t0: 0 };
const code = (index: number) => codeAt(benchSeed(index), stepAt(Date.now(), parameters), parameters);
function attempt(kind: Case, sample: number): { user: string; passcode: string } {
  const index = base[kind] + sample;
  switch (kind) {
    case "unknown user":
      return { user: `nobody${sample}`, passcode: BENCH_PIN + code(sample) };
    case "wrong PIN":
      return { user: benchUser(index), passcode: "740392" + code(index) };
    case "wrong code":
      return { user: benchUser(index), passcode: BENCH_PIN + String((Number(code(index)) + 1) % 1_000_000).padStart(6, "0") };
    case "locked":
    case "disabled token":
      return { user: benchUser(index), passcode: BENCH_PIN + code(index) };
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
const values = Object.values(medians);
const spreadPercent = Number((((Math.max(...values) - Math.min(...values)) / Math.min(...values)) * 100).toFixed(1));
for (const kind of cases) {
  console.log(`${kind.padEnd(15)} median ${medians[kind].toFixed(3)} ms  p90 ${percentile(latencies[kind], 0.9).toFixed(3)} ms`);
}
console.log(`bodies: ${bodies.size === 1 ? "byte-identical" : `${bodies.size} different`} (${[...bodies][0]})`);
console.log(`largest difference between medians: ${spreadPercent} % (target ≤ 10 %)`);
console.log(JSON.stringify({ samples, medianMs: medians, spreadPercent, identicalBodies: bodies.size === 1 }));
