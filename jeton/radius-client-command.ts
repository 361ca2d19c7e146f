import { Option, type Command } from "commander";
import { readFileSync } from "node:fs";
import { configFromEnvironment } from "../validator/config.js";
import type { ValidatorContext } from "../validator/context.js";
import { OperationError } from "../validator/operations/operation-error.js";
import { addRadiusClient, listRadiusClients, removeRadiusClient } from "../validator/operations/radius-clients.js";
import { promptKinds, type PromptKind, type PromptOverrides } from "../validator/radius/prompts.js";
import type { Actor } from "../validator/storage/audit-log.js";
import { CommandFailure, exitCodes } from "../common/failure.js";
import { localActor } from "./keys-command.js";

/** Like `jeton keys`, these work on the configured database directly; a running server picks changes up within seconds. */
async function withValidator<T>(work: (ctx: ValidatorContext, actor: Actor) => Promise<T>): Promise<T> {
  // loaded when run: storage would slow every other `jeton` command's start
  const { openConfiguredValidator } = await import("../validator/validator.js");
  const { ctx } = await openConfiguredValidator(configFromEnvironment());
  try {
    return await work(ctx, localActor());
  } catch (error) {
    if (error instanceof OperationError) throw new CommandFailure(error.message, error.kind === "invalid" ? exitCodes.usage : exitCodes.refused);
    throw error;
  } finally {
    await ctx.database.close();
  }
}

function collectPrompt(value: string, previous: PromptOverrides): PromptOverrides {
  const separator = value.indexOf("=");
  const kind = value.slice(0, separator);
  if (separator < 0 || !(promptKinds as readonly string[]).includes(kind)) {
    throw new CommandFailure(`--prompt takes KIND=TEXT with KIND one of ${promptKinds.join(", ")}`, exitCodes.usage);
  }
  return { ...previous, [kind as PromptKind]: value.slice(separator + 1) };
}

export function radiusClientCommand(program: Command): void {
  const clients = program.command("radius-client").description("RADIUS clients (VPN, Wi-Fi, SSH, SSO servers), kept in the configured database (no server needed)");
  clients
    .command("add <name>")
    .description("add a client; without --secret-file a 32-character shared secret is generated and printed once")
    .requiredOption("--address <ip-or-cidr>", "the address or block requests come from")
    .option("--secret-file <path>", "file holding the shared secret (at least 16 characters)")
    .addOption(new Option("--require-message-authenticator <yes|no>", "drop requests without Message-Authenticator (no: only for clients that cannot send it)").choices(["yes", "no"]).default("yes"))
    .addOption(new Option("--language <language>", "language of the prompts").choices(["fr", "en"]).default("en"))
    .option("--prompt <kind=text>", `replace a prompt (${promptKinds.join(", ")}); repeatable`, collectPrompt, {})
    .option("--json", 'print {"client", "secret"?} as JSON')
    .action(async (name: string, options: { address: string; secretFile?: string; requireMessageAuthenticator: "yes" | "no"; language: "fr" | "en"; prompt: PromptOverrides; json?: boolean }) => {
      const secret = options.secretFile === undefined ? undefined : readFileSync(options.secretFile, "utf8").replace(/\r?\n$/, "");
      const added = await withValidator((ctx, actor) =>
        addRadiusClient(ctx, actor, {
          name,
          address: options.address,
          ...(secret !== undefined && { secret }),
          requireMessageAuthenticator: options.requireMessageAuthenticator === "yes",
          language: options.language,
          prompts: options.prompt,
        }),
      );
      if (added.client.address.endsWith("/0")) {
        process.stderr.write(
          `jeton: warning: ${added.client.address} takes requests from every address: any host that learns the shared secret can act as this client; give the NAS's own address or block instead\n`,
        );
      }
      if (options.json) {
        process.stdout.write(JSON.stringify({ client: added.client, ...(added.generated && { secret: added.secret }) }) + "\n");
        return;
      }
      process.stdout.write(
        `RADIUS client ${name} added for ${added.client.address}` +
          (added.client.requireMessageAuthenticator ? "" : " (Message-Authenticator not required)") +
          (added.generated ? `.\nShared secret (shown once, configure it on the client now):\n${added.secret}\n` : ".\n"),
      );
    });
  clients
    .command("list")
    .description("list the clients (never their secrets)")
    .option("--json", "print a JSON array")
    .action(async (options: { json?: boolean }) => {
      const list = await withValidator((ctx) => listRadiusClients(ctx));
      if (options.json) {
        process.stdout.write(JSON.stringify(list) + "\n");
        return;
      }
      const lines = list.map(
        (client) =>
          `${client.name}\t${client.address}\tmessage-authenticator ${client.requireMessageAuthenticator ? "required" : "optional"}\t${client.language}` +
          (Object.keys(client.prompts).length > 0 ? `\tprompts: ${Object.keys(client.prompts).join(", ")}` : ""),
      );
      process.stdout.write(lines.length > 0 ? lines.join("\n") + "\n" : "no RADIUS client\n");
    });
  clients
    .command("remove <name>")
    .description("remove a client; its open challenges end with it")
    .option("--json", "print {\"removed\": name}")
    .action(async (name: string, options: { json?: boolean }) => {
      await withValidator((ctx, actor) => removeRadiusClient(ctx, actor, name));
      process.stdout.write(options.json ? JSON.stringify({ removed: name }) + "\n" : `RADIUS client ${name} removed\n`);
    });
}
