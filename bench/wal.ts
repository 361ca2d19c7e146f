/**
 * npm run bench:wal [-- --seconds S --tokens N --connections C]
 *
 * Seeds N users with a token and a PIN, starts `jeton serve` as its own process from a directory other
 * than the project's (where the SQLite checkpointer once failed to load), saturates POST /v1/validate
 * with unique valid passcodes for S seconds (default 60) and samples the size of the WAL file every
 * 20 ms. Prints a summary, then one JSON line (the last line) with the peak WAL size and validations/s.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startServe } from "../tests/support/cli.js";
import { benchUser, PasscodeSource, seedUsers } from "./seed.js";
import { createBenchWorkspace } from "./workspace.js";
import { runWrk, writeBodies } from "./wrk.js";

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
/** More than this benchmark's server answers per second: wrk never runs out (it refuses the run if it does). */
const preparedPerSecond = 10_000;
const bodiesFile = join(workspace.directory, "validations.bodies");
writeBodies(
  bodiesFile,
  Array.from({ length: preparedPerSecond * seconds }, (_, request) => {
    const index = request % tokenCount;
    return JSON.stringify({ user: benchUser(index), passcode: passcodes.valid(index) });
  }),
);

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
try {
  const result = await runWrk({
    url: `${server.url}/v1/validate`,
    connections,
    seconds,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    bodiesFile,
  });
  clearInterval(sampler);
  const summary = {
    seconds,
    tokens: tokenCount,
    validationsPerSecond: result.perSecond,
    peakWalMB: Number((peakWalBytes / 2 ** 20).toFixed(1)),
    finalWalMB: Number((walSize() / 2 ** 20).toFixed(1)),
    accepted: result.accepts,
    notAccepted: result.rejects + result.others,
    errors: result.errors,
    checkpointerFailed: /checkpointer stopped/.test(server.output()),
  };
  console.log(
    `SQLite, ${seconds} s saturated: ${summary.validationsPerSecond} validations/s, WAL peak ${summary.peakWalMB} MB ` +
      `(final ${summary.finalWalMB} MB); accepted ${summary.accepted}, other ${summary.notAccepted}`,
  );
  console.log(JSON.stringify(summary));
} finally {
  clearInterval(sampler);
  await server.stop();
  await workspace.remove();
}
