#!/usr/bin/env node
// Firmware figures (not tests; absolute times on shared machines are noise):
//   - bytecode size of firmware/dist/jeton.devs
//   - VM time per TOTP, SHA-256 (native HMAC) and SHA-1 (TypeScript), in a VM joined to a hub
//     (the normal run mode; `--test` mode adds GC stress and is ~20-40x slower)
//   - VM start to token service announced, and to the first code on screen (provisioned flash)
// Usage, after `npm run build && npm run build:firmware`:  node firmware/scripts/bench.mjs
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const firmwareDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const root = resolve(firmwareDir, "..");
const sim = (m) => import(join(root, "dist", "hardware", "sim", m));
const { startFrameHub } = await sim("frame-hub.js");
const { startVm, newVmWorkDir } = await sim("vm-process.js");
const { startTokenSim } = await sim("token-sim.js");
const { devsCliScript } = await sim("devs-cli.js");

const results = { bytecodeBytes: statSync(join(firmwareDir, "dist", "jeton.devs")).size };

// TOTP cost: build the bench entry and run it in a VM on a private hub
execFileSync(process.execPath, [devsCliScript(), "build", "bench/totp-bench.ts"], { cwd: firmwareDir, stdio: "ignore" });
const work = mkdtempSync(join(tmpdir(), "jeton-bench-"));
const image = join(work, "totp-bench.devs");
copyFileSync(join(firmwareDir, ".devicescript", "bin", "bytecode.devs"), image);
{
  const hub = await startFrameHub(0);
  let done;
  const finished = new Promise((r) => (done = r));
  const vm = startVm({
    hubPort: hub.port,
    image,
    onLog: (line) => {
      const m = /bench (SHA256|SHA1): .* = ([\d.]+) ms per TOTP/.exec(line);
      if (m) results[`msPerTotp${m[1]}`] = Number(m[2]);
      if (results.msPerTotpSHA1 !== undefined) done();
    },
  });
  await finished;
  await vm.stop();
  await hub.close();
}
rmSync(work, { recursive: true, force: true });

// start-up: provision once, then time a fresh start on that flash
{
  const workDir = newVmWorkDir();
  const first = await startTokenSim({ workDir });
  await first.token.provision({
    time: Math.floor(Date.now() / 1000),
    algorithm: "SHA256",
    serial: "JT00000001",
    seed: Buffer.alloc(32, 1),
  });
  await first.close();
  const t0 = Date.now();
  const again = await startTokenSim({ workDir });
  results.msVmStartToServiceAnnounced = again.startMillis;
  await again.token.waitForScreen((s) => /\n\d{3} \d{3}\n/.test(s), 20000, 20);
  results.msStartToFirstCodeShown = Date.now() - t0;
  await again.close();
  rmSync(workDir, { recursive: true, force: true });
}
console.log(JSON.stringify(results));
