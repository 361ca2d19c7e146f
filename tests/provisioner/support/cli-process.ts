// A `jeton` command running in the background, whose stderr lines the test reacts to (as an operator
// reads the screen) — no fixed sleeps: each step waits for the line that announces it.
import { spawn, type ChildProcess } from "node:child_process";
import { jetonBin } from "../../support/cli.js";

export interface RunningCli {
  child: ChildProcess;
  /** resolves with the first stderr line (from now or already seen since `from`) matching `pattern` */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  kill(signal: NodeJS.Signals): void;
}

export function startCli(args: string[], env: NodeJS.ProcessEnv): RunningCli {
  const child = spawn(process.execPath, [jetonBin, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let consumed = 0;
  const listeners = new Set<() => void>();
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const listener of [...listeners]) listener();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.once("exit", (code, signal) => {
      for (const listener of [...listeners]) listener();
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return {
    child,
    exited,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, signal);
    },
    waitForLine(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const lines = stderr.slice(consumed).split("\n");
          let offset = consumed;
          for (const line of lines.slice(0, -1)) {
            offset += line.length + 1;
            const match = pattern.exec(line);
            if (match) {
              consumed = offset;
              cleanup();
              resolve(match);
              return;
            }
          }
          if (child.exitCode !== null || child.signalCode !== null) {
            cleanup();
            reject(new Error(`jeton exited before printing ${pattern}:\n${stderr}\n${stdout}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${stderr}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
  };
}
