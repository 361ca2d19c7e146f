// `jeton serve` when a listener after the HTTP one cannot start (its port taken): it closes what it opened
// and exits non-zero, so a supervisor sees it fail. An attacker review (2026-12-03) found it running on,
// answering HTTP with no RADIUS listener and no start line.
import { spawn } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { createServer, type Server } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetonBin } from "../../support/cli.js";

/** Runs `jeton serve` and waits for it to exit, at most `ms`; null when it was still running (then killed). */
function serveUntilExit(env: NodeJS.ProcessEnv, ms: number): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [jetonBin, "serve"], { env: { PATH: process.env.PATH, PORT: "0", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve({ code: null, output });
    }, ms);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe("jeton serve start-up failure after the HTTP listener is up", () => {
  let directory: string;
  let udp: Socket;
  let tcp: Server;
  let udpPort: number;
  let tcpPort: number;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), "jeton-serve-start-"));
    udp = createSocket("udp4");
    await new Promise<void>((resolve) => udp.bind(0, "127.0.0.1", resolve));
    udpPort = udp.address().port;
    tcp = createServer();
    await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve));
    tcpPort = (tcp.address() as { port: number }).port;
  });
  afterAll(async () => {
    udp.close();
    await new Promise((resolve) => tcp.close(resolve));
    rmSync(directory, { recursive: true, force: true });
  });

  it("exits non-zero when the RADIUS port is taken (instead of running on without RADIUS)", async () => {
    const result = await serveUntilExit({ JETON_DATA_DIR: join(directory, "radius"), JETON_RADIUS_PORT: String(udpPort), JETON_RADIUS_HOST: "127.0.0.1" }, 15_000);
    expect(result.output).toContain("cannot listen for RADIUS");
    expect(result.code).not.toBeNull();
    expect(result.code).not.toBe(0);
  });

  it("exits non-zero when the metrics port is taken (instead of running on without /metrics)", async () => {
    const result = await serveUntilExit({ JETON_DATA_DIR: join(directory, "metrics"), JETON_METRICS_PORT: String(tcpPort), JETON_METRICS_HOST: "127.0.0.1" }, 15_000);
    expect(result.output).toContain("EADDRINUSE");
    expect(result.code).not.toBeNull();
    expect(result.code).not.toBe(0);
  });
});
