/**
 * npm run bench:wal [-- --seconds S --tokens N --connections C]
 *
 * Seeds N users with a token and a PIN, starts `jeton serve` as its own process from a directory other
 * than the project's (where the SQLite checkpointer once failed to load), saturates POST /v1/validate
 * with unique valid passcodes for S seconds (default 60) and samples the size of the WAL file every
 * 20 ms. Prints a summary, then one JSON line (the last line) with the peak WAL size and validations/s.
 */
import autocannon from "autocannon";
import { statSync } from "node:fs";
import { parseArgs } from "node:util";
import { startServe } from "../tests/support/cli.js";
import { benchUser, PasscodeSource, seedUsers } from "./seed.js";
import { createBenchWorkspace } from "./workspace.js";

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    tokens: { type: "string", default: "10000" },
    connections: { type: "string", default: "32" },
  },
});
const seconds = Number(args.seconds);
const tokenCount = Number(args.tokens);
const connections = Number(args.connections);

const workspace = await createBenchWorkspace("sqlite");
if (workspace.location.kind !== "sqlite") throw new Error("the WAL benchmark runs on SQLite");
const walFile = `${workspace.location.file}-wal`;
const key = await seedUsers(workspace.location, workspace.masterKey, tokenCount);
const passcodes = new PasscodeSource();
let cursor = 0;
const nextBody = () => {
  const index = cursor++ % tokenCount;
  return JSON.stringify({ user: benchUser(index), passcode: passcodes.valid(index) });
};

const server = await startServe(workspace.environment, [], workspace.directory);
let peakWalBytes = 0;
const walSize = () => {
  try {
    return statSync(walFile).size;
  } catch {
    return 0;
  }
};
const sampler = setInterval(() => (peakWalBytes = Math.max(peakWalBytes, walSize())), 20);
const counts = { accept: 0, other: 0 };
try {
  const result = await new Promise<autocannon.Result>((resolve, reject) =>
    autocannon(
      {
        url: server.url,
        connections,
        duration: seconds,
        requests: [
          {
            method: "POST",
            path: "/v1/validate",
            headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
            setupRequest: (request) => ({ ...request, body: nextBody() }),
            onResponse: (status, body) => {
              counts[status === 200 && (JSON.parse(body) as { result: string }).result === "accept" ? "accept" : "other"]++;
            },
          },
        ],
      },
      (error, finished) => (error ? reject(error) : resolve(finished)),
    ),
  );
  clearInterval(sampler);
  const summary = {
    seconds,
    tokens: tokenCount,
    validationsPerSecond: Math.round(result.requests.average),
    peakWalMB: Number((peakWalBytes / 2 ** 20).toFixed(1)),
    finalWalMB: Number((walSize() / 2 ** 20).toFixed(1)),
    accepted: counts.accept,
    notAccepted: counts.other,
    errors: result.errors + result.non2xx,
    checkpointerFailed: /checkpointer stopped/.test(server.output()),
  };
  console.log(
    `SQLite, ${seconds} s saturated: ${summary.validationsPerSecond} validations/s, WAL peak ${summary.peakWalMB} MB ` +
      `(final ${summary.finalWalMB} MB); accepted ${counts.accept}, other ${counts.other}`,
  );
  console.log(JSON.stringify(summary));
} finally {
  clearInterval(sampler);
  await server.stop();
  await workspace.remove();
}
