import { Option, type Command } from "commander";
import { readFileSync } from "node:fs";
import { hashAlgorithms } from "../common/profile.js";
import { disableReasons } from "../validator/operations/tokens.js";
import { CommandFailure, exitCodes } from "../common/failure.js";
import { apiClient, type ApiCall } from "./api-client.js";

type Output = { json?: boolean };

/** Prints an API answer: as JSON with --json, otherwise as `name: value` lines for people. */
function print(result: unknown, options: Output): void {
  if (options.json) {
    process.stdout.write(JSON.stringify(result ?? { ok: true }) + "\n");
    return;
  }
  const lines = (value: unknown, indent: string): string[] =>
    value !== null && typeof value === "object"
      ? Object.entries(value).flatMap(([name, inner]) =>
          inner !== null && typeof inner === "object"
            ? [`${indent}${name}:`, ...lines(inner, indent + "  ")]
            : [`${indent}${name}: ${inner ?? "-"}`],
        )
      : [`${indent}${String(value ?? "done")}`];
  process.stdout.write(lines(result, "").join("\n") + "\n");
}

/** Each action gets the API client and prints what the server answered. */
function remote(action: (call: ApiCall, ...args: string[]) => Promise<unknown>) {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const options = command.opts() as Output;
    const positional = args.slice(0, -2).filter((value): value is string => typeof value === "string");
    print(await action(apiClient(), ...positional), options);
  };
}

const path = encodeURIComponent;

/** Reads a token seed from a file or JETON_TOKEN_SECRET, never from the command line. */
function secretFromFileOrEnvironment(file: string | undefined, encoding: "base32" | "hex"): { secret?: string; secretHex?: string } {
  const text = (file ? readFileSync(file, "utf8") : process.env.JETON_TOKEN_SECRET ?? "").trim();
  if (!text) throw new CommandFailure("give the seed in a file (--secret-file) or in JETON_TOKEN_SECRET", exitCodes.usage);
  return encoding === "hex" ? { secretHex: text } : { secret: text };
}

export function administrationCommands(program: Command): void {
  const json = () => new Option("--json", "print the server's answer as JSON");

  const token = program.command("token").description("help desk: register, show, assign and disable tokens (JETON_URL, JETON_API_KEY)");
  token
    .command("register <serial>")
    .description("register a token; the seed comes from --secret-file or JETON_TOKEN_SECRET (base32, or hex)")
    .option("--secret-file <path>", "file holding the seed")
    .addOption(new Option("--secret-encoding <encoding>", "how the seed is written").choices(["base32", "hex"]).default("base32"))
    .addOption(new Option("--algorithm <name>").choices(hashAlgorithms))
    .option("--digits <n>", "code length", (value) => Number(value))
    .option("--period <seconds>", "time step", (value) => Number(value))
    .addOption(json())
    .action(async (serial: string, options: { secretFile?: string; secretEncoding: "base32" | "hex"; algorithm?: string; digits?: number; period?: number } & Output) => {
      const body = { serial, ...secretFromFileOrEnvironment(options.secretFile, options.secretEncoding), algorithm: options.algorithm, digits: options.digits, period: options.period };
      print(await apiClient()("POST", "/v1/tokens", body), options);
    });
  token.command("show <serial>").description("show a token").addOption(json()).action(remote((call, serial) => call("GET", `/v1/tokens/${path(serial!)}`)));
  token
    .command("assign <serial> <user>")
    .description("assign a token to a user (a replacement keeps the user's PIN)")
    .addOption(json())
    .action(remote((call, serial, user) => call("POST", `/v1/tokens/${path(serial!)}/assign`, { user })));
  token
    .command("unassign <serial>")
    .description("take a token away from its user")
    .addOption(json())
    .action(remote((call, serial) => call("POST", `/v1/tokens/${path(serial!)}/unassign`, {})));
  token
    .command("disable <serial>")
    .description("disable a lost, stolen or broken token: it is never accepted again until enabled")
    .addOption(new Option("--reason <reason>").choices(disableReasons).makeOptionMandatory())
    .addOption(json())
    .action(async (serial: string, options: { reason: string } & Output) => {
      print(await apiClient()("POST", `/v1/tokens/${path(serial)}/disable`, { reason: options.reason }), options);
    });
  token
    .command("enable <serial>")
    .description("enable a disabled token again")
    .addOption(json())
    .action(remote((call, serial) => call("POST", `/v1/tokens/${path(serial!)}/enable`, {})));

  const user = program.command("user").description("support: show a user, reset a PIN, unlock (JETON_URL, JETON_API_KEY)");
  user.command("show <user>").description("tokens, PIN state, lockout and emergency password of a user").addOption(json()).action(remote((call, name) => call("GET", `/v1/users/${path(name!)}`)));
  user
    .command("pin-reset <user>")
    .description("cancel the PIN: the next login is the code alone, then the user chooses a new PIN")
    .addOption(json())
    .action(remote((call, name) => call("POST", `/v1/users/${path(name!)}/pin-reset`, {})));
  user
    .command("unlock <user>")
    .description("clear the failure count (throttle and lock)")
    .addOption(json())
    .action(remote((call, name) => call("POST", `/v1/users/${path(name!)}/unlock`, {})));

  const emergency = program.command("emergency").description("support: emergency passwords valid until 23:59 (JETON_URL, JETON_API_KEY)");
  emergency
    .command("issue <user>")
    .description("issue an emergency password, used with the PIN in place of the code; printed once")
    .addOption(json())
    .action(remote((call, name) => call("POST", `/v1/users/${path(name!)}/emergency`, {})));
  emergency
    .command("revoke <user>")
    .description("revoke the user's emergency password")
    .addOption(json())
    .action(remote((call, name) => call("DELETE", `/v1/users/${path(name!)}/emergency`)));

  program
    .command("audit")
    .description("auditor/support: read the audit log, newest first")
    .option("--user <user>")
    .option("--serial <serial>")
    .option("--since <iso-time>")
    .option("--limit <n>", "at most this many entries", "50")
    .addOption(json())
    .action(async (options: { user?: string; serial?: string; since?: string; limit: string } & Output) => {
      const query = new URLSearchParams(
        Object.entries({ user: options.user, serial: options.serial, since: options.since, limit: options.limit }).filter(
          (entry): entry is [string, string] => entry[1] !== undefined,
        ),
      );
      const answer = (await apiClient()("GET", `/v1/audit?${query}`)) as { entries: Record<string, unknown>[] };
      if (options.json) return print(answer, options);
      for (const entry of answer.entries) {
        process.stdout.write(
          `${entry.at}  ${entry.event} ${entry.result}  user=${entry.user ?? "-"} serial=${entry.serial ?? "-"}  by ${entry.actor} from ${entry.source}${entry.detail ? "  " + JSON.stringify(entry.detail) : ""}\n`,
        );
      }
    });
}
