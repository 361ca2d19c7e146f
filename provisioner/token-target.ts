// Where the token is: a serial port (named, or found automatically) or a TCP frame hub (the
// DeviceScript VM's hub in tests and demos, or a devtools bridge to a board).
import { existsSync } from "node:fs";
import { CommandFailure, exitCodes } from "../common/failure.js";

export type TokenTarget =
  | { kind: "serial"; path?: string }
  | { kind: "tcp"; host: string; port: number };

export function describeTarget(target: TokenTarget): string {
  if (target.kind === "tcp") return `tcp://${target.host}:${target.port}`;
  return target.path ?? "serial (automatic)";
}

/** From the --port / --tcp options (exclusive); checks a named port exists before anything opens it. */
export function targetFromOptions(options: { port?: string; tcp?: string }): TokenTarget {
  if (options.port && options.tcp) throw new CommandFailure("give either --port or --tcp, not both", exitCodes.usage);
  if (options.tcp) {
    const match = /^(?:([^:]+):)?(\d{1,5})$/.exec(options.tcp);
    const port = match ? Number(match[2]) : Number.NaN;
    if (!match || port < 1 || port > 65535) {
      throw new CommandFailure(`--tcp must be host:port or port (e.g. 127.0.0.1:8082), got "${options.tcp}"`, exitCodes.usage);
    }
    return { kind: "tcp", host: match[1] ?? "127.0.0.1", port };
  }
  if (options.port) {
    if (!existsSync(options.port)) {
      throw new CommandFailure(`serial port ${options.port} does not exist (see \`jeton devices\`)`, exitCodes.usage);
    }
    return { kind: "serial", path: options.port };
  }
  return { kind: "serial" };
}
