import { Command, CommanderError } from "commander";
import { readFileSync } from "node:fs";
import { projectFile } from "../common/project-files.js";
import { CommandFailure, exitCodes } from "../common/failure.js";
import { terminalText } from "../common/terminal-text.js";
import { administrationCommands } from "./administration-commands.js";
import { backupCommands } from "./backup-command.js";
import { keysCommand } from "./keys-command.js";
import { radiusClientCommand } from "./radius-client-command.js";
import { serveCommand } from "./serve-command.js";
import { registerSimCommand } from "../hardware/sim/sim-command.js";
import { registerProvisionerCommands } from "./provisioner-commands.js";
import { staffCommand } from "./staff-command.js";

export function packageVersion(): string {
  return (JSON.parse(readFileSync(projectFile("package.json"), "utf8")) as { version: string }).version;
}

export function buildProgram(): Command {
  const program = new Command("jeton")
    .description("Jeton: open one-time-password tokens — validator, help-desk tools, provisioner and simulator")
    .version(packageVersion())
    .showHelpAfterError()
    .exitOverride();
  serveCommand(program);
  keysCommand(program);
  radiusClientCommand(program);
  staffCommand(program);
  backupCommands(program);
  administrationCommands(program);
  registerProvisionerCommands(program);
  registerSimCommand(program);
  return program;
}

/** Runs the CLI; exit code 0 only on success. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? 0 : exitCodes.usage;
      return;
    }
    if (error instanceof CommandFailure) {
      const json = program.opts().json || process.argv.includes("--json");
      if (json) process.stdout.write(JSON.stringify({ error: error.message, ...(error.body !== undefined && { response: error.body }) }) + "\n");
      else process.stderr.write(`jeton: ${terminalText(error.message)}\n`);
      process.exitCode = error.exitCode;
      return;
    }
    process.stderr.write(`jeton: ${terminalText((error as Error).message)}\n`);
    process.exitCode = 1;
  }
}
