// Plumbing shared by the provisioner commands: the --port/--tcp/--wait options, a bus that is
// always closed, output as text or --json, operator messages on stderr (stdout stays parseable),
// and an explicit exit once done because jacdac-ts leaves timers running after dispose().
import type { Command } from "commander";
import { CommandFailure, exitCodes } from "../common/failure.js";
import { terminalText } from "../common/terminal-text.js";
import { openTokenBus, type TokenBus } from "./token-connection.js";
import { targetFromOptions } from "./token-target.js";

export interface TargetOptions {
  port?: string;
  tcp?: string;
  wait: string;
  json?: boolean;
}

export function addTargetOptions(command: Command, waitDefault = "10"): Command {
  return command
    .option("--port <path>", "serial port of the token (default: found automatically)")
    .option("--tcp <host:port>", "a TCP frame hub instead of a serial port (DeviceScript VM, devtools bridge)")
    .option("--wait <seconds>", "how long to wait for a token", waitDefault)
    .option("--json", "machine-readable output");
}

export function waitMillis(options: { wait: string }): number {
  const seconds = Number(options.wait);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
    throw new CommandFailure(`--wait must be a number of seconds between 0 and 3600, got "${options.wait}"`, exitCodes.usage);
  }
  return seconds * 1000;
}

let jacdacQuieted = false;
/**
 * jacdac-ts reports transport chatter on console.debug/warn/error; keep it off the operator's screen
 * (our own messages go straight to process.stderr). JETON_DEBUG=1 shows it.
 */
export function quietJacdac(): void {
  if (jacdacQuieted || process.env.JETON_DEBUG) return;
  jacdacQuieted = true;
  console.debug = () => undefined;
  console.warn = () => undefined;
  console.error = () => undefined;
}

let openBuses = 0;

/**
 * jacdac-ts timers (port watcher, bus scheduler) outlive dispose(): end the process once the command
 * is done — shortly after the last bus closed (the output is written by then), never while a command
 * that goes through several ports (devices) still has one open.
 */
export function exitWhenDone(): void {
  setTimeout(() => {
    if (openBuses === 0) process.exit();
  }, 300).unref();
}

export async function withTokenBus<T>(options: TargetOptions, action: (tokenBus: TokenBus) => Promise<T>): Promise<T> {
  quietJacdac();
  openBuses++;
  try {
    const tokenBus = await openTokenBus(targetFromOptions(options));
    try {
      return await action(tokenBus);
    } finally {
      // closing a serial port can stall on a wedged device; the work is done, so do not wait long
      await Promise.race([tokenBus.close(), new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
    }
  } finally {
    openBuses--;
    exitWhenDone();
  }
}

export function say(line: string): void {
  process.stderr.write(`${terminalText(line)}\n`);
}

export function print(options: { json?: boolean }, value: unknown, text: string): void {
  process.stdout.write(options.json ? `${JSON.stringify(value)}\n` : `${terminalText(text)}\n`);
}
