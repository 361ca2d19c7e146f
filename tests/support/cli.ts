import { execFile, spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { projectFile } from "../../common/project-files.js";
import { captureLog } from "./log-guard.js";

/** Found from the sources (tests) and from dist/ (benchmarks) alike. */
export const jetonBin = projectFile("bin/jeton.js");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `jeton …` to completion with no standard input. */
export function jeton(args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [jetonBin, ...args], { env: { PATH: process.env.PATH, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    child.stdin?.end(input ?? "");
  });
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** Everything the server printed so far. */
  output(): string;
  stop(): Promise<void>;
}

export interface ServeOptions {
  /** `--json`: ready on the JSON start-up line, which comes whatever JETON_LOG_LEVEL says. */
  serveArguments?: string[];
  /**
   * The server's standard output goes to this file, as a service's goes to its journal, instead of a
   * pipe this process reads: a benchmark then does not spend its client's CPU reading the server's log.
   */
  logFile?: string;
}

/**
 * Starts `jeton serve` on a free port and waits for its "listening" line (no fixed sleep), from `cwd`
 * (default: this process's working directory).
 */
export function startServe(env: NodeJS.ProcessEnv, nodeArguments: string[] = [], cwd?: string, options: ServeOptions = {}): Promise<ServerProcess> {
  const logFd = options.logFile === undefined ? null : openSync(options.logFile, "a", 0o600);
  const child = spawn(process.execPath, [...nodeArguments, jetonBin, "serve", ...(options.serveArguments ?? [])], {
    cwd,
    env: { PATH: process.env.PATH, PORT: "0", ...env },
    stdio: ["ignore", logFd ?? "pipe", "pipe"],
  });
  if (logFd !== null) closeSync(logFd);
  let piped = "";
  const output = () => (options.logFile === undefined ? "" : readFileSync(options.logFile, "utf8")) + piped;
  // The server's output goes to the log guard once it exits (a client command's output may rightly
  // hold a key or an emergency password it was asked to print; the server's never).
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      captureLog(output());
      resolve();
    }),
  );
  return new Promise((resolve, reject) => {
    let ready = false;
    const check = (text: string) => {
      // Matched only until ready: a server under load writes a line per request, and searching the
      // whole output at each chunk cost the benchmarks more CPU than the server itself.
      const listening = ready ? null : /listening on (https?:\/\/\S+)|"listening":"(https?:\/\/[^"]+)"/.exec(text);
      if (!listening) return;
      ready = true;
      clearInterval(polling);
      resolve({
        child,
        url: (listening[1] ?? listening[2])!,
        output,
        async stop() {
          if (child.exitCode === null) child.kill("SIGTERM");
          await exited;
        },
      });
    };
    const polling = options.logFile === undefined ? undefined : setInterval(() => check(output()), 20);
    const onData = (chunk: Buffer) => {
      piped += chunk.toString();
      check(piped);
    };
    child.stdout?.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearInterval(polling);
      reject(new Error(`jeton serve exited with ${code}: ${output()}`));
    });
  });
}
