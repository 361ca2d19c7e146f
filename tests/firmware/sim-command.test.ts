// `jeton sim` as a separate process (the real jeton CLI, bin/jeton.js): it announces
// its hub, prints display changes as JSON lines, serves a provisioner on the hub, and on SIGTERM
// stops its VM and exits 0.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { repoRoot } from "../../common/token-service/devs-cli.js";
import { connectBus } from "../../hardware/sim/harness-bus.js";
import { waitForToken } from "../../common/token-service/token-client.js";
import { TokenResult } from "../../common/token-service/token-protocol.js";
import { faceFromPng } from "./face-pictures.js";
import { readCode } from "./face-reader.js";
import { newSeed, nowSeconds, SCREEN } from "./token-helpers.js";


function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const dir = mkdtempSync(join(tmpdir(), "jeton-sim-png-"));
const cleanups: (() => Promise<void> | void)[] = [() => rmSync(dir, { recursive: true, force: true })];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

test("jeton sim: ready line, display changes and faces (--png), provisioning over the hub, clean SIGTERM", async () => {
  const png = join(dir, "face.png");
  const child = spawn(process.execPath, [join(repoRoot(), "bin/jeton.js"), "sim", "--port", "0", "--json", "--png", png], {
    cwd: repoRoot(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  cleanups.push(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });

  const events: Record<string, unknown>[] = [];
  const waiters: { pred: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown>) => void }[] = [];
  createInterface({ input: child.stdout }).on("line", (line) => {
    const e = JSON.parse(line) as Record<string, unknown>;
    events.push(e);
    for (const w of [...waiters]) if (w.pred(e)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(e));
  });
  const next = (pred: (e: Record<string, unknown>) => boolean) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const found = events.find(pred);
      if (found) return resolve(found);
      waiters.push({ pred, resolve });
      void exited.then((code) => reject(new Error(`sim exited (${code}) early: ${stderr}`)));
    });

  const ready = await next((e) => e.event === "ready");
  expect(ready.port).toEqual(expect.any(Number));
  const vmPid = ready.vmPid as number;
  expect(pidAlive(vmPid)).toBe(true);
  await next((e) => e.event === "display" && e.text === SCREEN.notProvisioned);

  // a provisioner's view: connect to the announced hub and provision the token
  const bus = await connectBus(ready.port as number);
  cleanups.push(async () => {
    await bus.disconnect();
    await bus.dispose();
  });
  const token = await waitForToken(bus);
  const serial = "JT00000777";
  expect(await token.provision({ time: nowSeconds(), algorithm: "SHA256", serial, seed: newSeed("SHA256") })).toBe(
    TokenResult.Ok,
  );
  const shown = await next((e) => e.event === "display" && String(e.text).startsWith(serial));
  expect(String(shown.text)).toMatch(/^JT00000777\n\d{3} \d{3}\n\[[#-]{4}\]$/);
  // the PNG written after that change shows the same code, at twice the display's resolution
  await next((e) => e.event === "face" && events.indexOf(e) > events.indexOf(shown));
  const face = faceFromPng(readFileSync(png));
  expect([face.width, face.height]).toEqual([296, 128]);
  const codes = events.filter((e) => e.event === "display").map((e) => String(e.text).split("\n")[1]);
  expect(codes).toContain(readCode(face));

  // SIGUSR1 presses the button: confirm a wipe requested by the "provisioner"
  const wiping = token.wipe();
  const prompt = await next((e) => e.event === "display" && e.text === SCREEN.confirm("wipe"));
  child.kill("SIGUSR1");
  expect(await wiping).toBe(TokenResult.Ok);
  await next((e) => e.event === "button");
  await next((e) => e.event === "display" && e.text === SCREEN.notProvisioned && events.indexOf(e) > events.indexOf(prompt));

  child.kill("SIGTERM");
  expect(await exited).toBe(0);
  expect(events.at(-1)!.event).toBe("stopped");
  expect(pidAlive(vmPid)).toBe(false);
});
