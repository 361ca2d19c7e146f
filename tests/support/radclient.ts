import { execFile } from "node:child_process";
import { existsSync } from "node:fs";

export const radclientPath = "/usr/bin/radclient";
/** Debian's freeradius-utils; tests that need it say so and skip when it is missing. */
export const radclientAvailable = existsSync(radclientPath);
if (!radclientAvailable) console.warn(`RADIUS tests skipped: ${radclientPath} is missing (Debian package freeradius-utils)`);

export interface RadclientReply {
  /** e.g. "Access-Accept", or null when no reply came. */
  code: string | null;
  attributes: Map<string, string[]>;
  output: string;
}

export interface RadclientOptions {
  command?: "auth" | "status";
  /** Add Message-Authenticator (radclient signs the request when the attribute is listed). Default true. */
  sign?: boolean;
  retries?: number;
  timeoutSeconds?: number;
}

/** Sends one request with Debian's radclient and parses what it received (radclient -x). */
export function radclient(port: number, secret: string, attributes: string[], options: RadclientOptions = {}): Promise<RadclientReply> {
  // Long by default: on a loaded CI machine an answer may take seconds. A test that expects no answer
  // gives its own short timeout.
  const { command = "auth", sign = true, retries = 1, timeoutSeconds = 10 } = options;
  const input = [...attributes, ...(sign ? ["Message-Authenticator = 0x00"] : [])].join(", ") + "\n";
  return new Promise((resolve, reject) => {
    const child = execFile(
      radclientPath,
      // "--": a secret starting with "-" is not an option.
      ["-x", "-r", String(retries), "-t", String(timeoutSeconds), "--", `127.0.0.1:${port}`, command, secret],
      { timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error && error.killed) return reject(new Error(`radclient hung: ${stdout}${stderr}`));
        resolve(parseReply(stdout + stderr));
      },
    );
    child.stdin?.end(input);
  });
}

function parseReply(output: string): RadclientReply {
  const lines = output.split("\n");
  const start = lines.findIndex((line) => /^Received \S+ Id/.test(line));
  const attributes = new Map<string, string[]>();
  if (start < 0) return { code: null, attributes, output };
  for (const line of lines.slice(start + 1)) {
    const match = /^\t(\S+) = (.*)$/.exec(line);
    if (!match) break;
    const value = match[2]!.replace(/^"(.*)"$/, "$1");
    attributes.set(match[1]!, [...(attributes.get(match[1]!) ?? []), value]);
  }
  return { code: /^Received (\S+)/.exec(lines[start]!)![1]!, attributes, output };
}
