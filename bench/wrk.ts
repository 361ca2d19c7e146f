import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { projectFile } from "../common/project-files.js";

export interface WrkResult {
  /** Requests answered. */
  requests: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  accepts: number;
  rejects: number;
  challenges: number;
  /** Answers that were none of those (an error status, say); `errors` counts failed exchanges. */
  others: number;
}

export interface WrkLoad {
  url: string;
  connections: number;
  seconds: number;
  headers?: Record<string, string>;
  /** Bodies to POST to `url`'s path, each once and in order; without them wrk GETs `url`. */
  bodiesFile?: string;
}

const script = projectFile("bench/prepared-requests.lua");

/** Writes bodies one per line for `WrkLoad.bodiesFile`. */
export function writeBodies(file: string, bodies: string[]): void {
  writeFileSync(file, bodies.join("\n") + "\n");
}

/**
 * Closed-loop load from Debian's wrk (one thread: the server is one event loop, and the other core is
 * what wrk and the kernel share). Refuses a run that used up its prepared bodies.
 */
export async function runWrk(load: WrkLoad): Promise<WrkResult> {
  const target = new URL(load.url);
  const headerArguments = Object.entries(load.headers ?? {}).flatMap(([name, value]) => ["-H", `${name}: ${value}`]);
  const scriptArguments = load.bodiesFile ? ["--", load.bodiesFile, target.pathname] : [];
  const output = await new Promise<string>((resolve, reject) => {
    execFile(
      "wrk",
      ["-t1", `-c${load.connections}`, `-d${load.seconds}s`, "--timeout", "10s", "-s", script, ...headerArguments, target.href, ...scriptArguments],
      { maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error) {
          const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
          reject(new Error(missing ? "wrk is not installed: apt-get install wrk (Debian's package)" : `wrk failed: ${stderr || error.message}`));
        } else {
          process.stderr.write(stderr);
          resolve(stdout);
        }
      },
    );
  });
  const report = output.split("\n").find((line) => line.startsWith("{"));
  if (!report) throw new Error(`wrk printed no report:\n${output}`);
  const parsed = JSON.parse(report) as Record<string, number>;
  if (parsed.exhausted! > 0) throw new Error(`wrk used up the ${load.bodiesFile} bodies: prepare more for this machine`);
  return {
    requests: parsed.requests!,
    perSecond: Math.round(parsed.requests! / (parsed.durationMicros! / 1e6)),
    p50Ms: parsed.p50Micros! / 1000,
    p99Ms: parsed.p99Micros! / 1000,
    errors: parsed.errors!,
    accepts: parsed.accepts!,
    rejects: parsed.rejects!,
    challenges: parsed.challenges!,
    others: parsed.others!,
  };
}
