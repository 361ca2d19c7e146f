// Figures for the provisioner (not timed tests: run on demand, numbers printed):
//   JETON_PROVISIONER_FIGURES=1 npx vitest run tests/provisioner/figures.test.ts
// - seconds per token for `jeton provision` (write + verify + register + assign, as the command
//   reports it, and the whole command including Node start-up and connecting) over TCP and over the
//   serial path (pty + JDUSB bridge), a fresh VM token each time;
// - a batch of 20 tokens in the VM (the batch's own seconds per token, and wall time including the
//   20 VM boots that stand in for plugging tokens in).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { jeton } from "../support/cli.js";
import { startValidator, testDatabase, type RunningValidator } from "../support/test-validator.js";
import { startCli } from "./support/cli-process.js";
import { FollowingClock } from "./support/following-clock.js";
import { startSerialTokenBridge } from "./support/serial-token-bridge.js";
import { startTokenBench, type TokenBench } from "./support/token-bench.js";

const enabled = Boolean(process.env.JETON_PROVISIONER_FIGURES);
const ROUNDS = Number(process.env.JETON_PROVISIONER_ROUNDS ?? 5);
const BATCH = 20;

const stats = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return { n: values.length, mean: Number(mean.toFixed(3)), median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted.at(-1) };
};

describe.skipIf(!enabled)("provisioner figures", () => {
  let bench: TokenBench;
  let validator: RunningValidator;
  let database: Awaited<ReturnType<typeof testDatabase>>;
  let env: NodeJS.ProcessEnv;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "jeton-figures-"));
    database = await testDatabase("sqlite");
    validator = await startValidator(database.location, { clock: new FollowingClock() });
    bench = await startTokenBench();
    env = { JETON_URL: validator.url, JETON_API_KEY: validator.keys.helpdesk };
  });
  afterAll(async () => {
    await bench?.close();
    await validator?.close();
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const transport of ["tcp", "serial"] as const) {
    test(`provision over ${transport}`, async () => {
      const reported: number[] = [];
      const command: number[] = [];
      const bridge = transport === "serial" ? await startSerialTokenBridge(bench.hub.port) : undefined;
      try {
        for (let round = 0; round < ROUNDS; round++) {
          const plugged = await bench.plug();
          const target = bridge ? ["--port", bridge.hostPath] : ["--tcp", String(bench.hub.port)];
          const started = Date.now();
          const result = await jeton(["provision", ...target, "--user", `figure${transport}${round}`, "--json"], env);
          command.push((Date.now() - started) / 1000);
          expect(result.code, result.stderr).toBe(0);
          reported.push(JSON.parse(result.stdout).timings.totalMs / 1000);
          await plugged.unplug();
        }
      } finally {
        await bridge?.close();
      }
      console.log(JSON.stringify({ figure: `provision-${transport}`, secondsPerToken: stats(reported), commandSeconds: stats(command) }));
    }, 300_000);
  }

  test(`batch of ${BATCH} tokens`, async () => {
    const csv = join(dir, "twenty.csv");
    writeFileSync(csv, Array.from({ length: BATCH }, (_, i) => `batchuser${i}`).join("\n") + "\n");
    const started = Date.now();
    const batch = startCli(["batch", csv, "--tcp", String(bench.hub.port), "--json"], env);
    for (let i = 0; i < BATCH; i++) {
      await batch.waitForLine(new RegExp(`line ${i + 1} \\(batchuser${i}\\): waiting for a blank token`));
      const plugged = await bench.plug();
      await batch.waitForLine(new RegExp(`line ${i + 1}: JT\\d{8} registered and assigned to batchuser${i} — unplug the token`));
      await plugged.unplug();
    }
    const finished = await batch.exited;
    expect(finished.code, finished.stderr).toBe(0);
    const summary = JSON.parse(finished.stdout);
    expect(summary.done).toBe(BATCH);
    console.log(JSON.stringify({ figure: `batch-${BATCH}`, secondsPerToken: summary.secondsPerToken, wallSecondsIncludingVmBoots: (Date.now() - started) / 1000 }));
  }, 600_000);
});
