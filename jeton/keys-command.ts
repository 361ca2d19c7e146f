import { InvalidArgumentError, Option, type Command } from "commander";
import { userInfo } from "node:os";
import { configFromEnvironment } from "../validator/config.js";
import type { ValidatorContext } from "../validator/context.js";
import { issueApiKey, listApiKeys, parseKeyExpiry, revokeApiKey, roles, type ApiKeyView, type Role } from "../validator/operations/api-keys.js";
import type { Actor } from "../validator/storage/audit-log.js";

/** The person at this terminal, as the audit log names them. */
const localActor = (): Actor => ({ id: `local:${userInfo().username}`, role: "operator", source: "cli" });

/** Runs `work` on the configured database (no server needed) and closes it. */
async function onDatabase(work: (ctx: ValidatorContext) => Promise<void>): Promise<void> {
  // loaded when run: storage and metrics modules would slow every other `jeton` command's start
  const { openConfiguredValidator } = await import("../validator/validator.js");
  const { ctx } = await openConfiguredValidator(configFromEnvironment());
  try {
    await work(ctx);
  } finally {
    await ctx.database.close();
  }
}

function expiry(text: string): number {
  try {
    return parseKeyExpiry(text, Date.now());
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function table(keys: ApiKeyView[]): string {
  const rows = [
    ["ID", "ROLE", "STATUS", "CREATED", "EXPIRES", "LAST USED", "LABEL"],
    ...keys.map((key) => [key.id, key.role, key.status, key.createdAt, key.expiresAt ?? "-", key.lastUsedAt ?? "-", key.label ?? "-"]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd()).join("\n") + "\n";
}

export function keysCommand(program: Command): void {
  const keys = program.command("keys").description("API keys, managed directly in the configured database (no server needed)");
  keys
    .command("create")
    .description("create an API key and print it once (only its hash is stored)")
    .addOption(new Option("--role <role>", "what the key may do").choices(roles).makeOptionMandatory())
    .option("--label <text>", "who or what the key is for (shown by keys list)")
    .option("--expires <when>", "when the key stops working: a duration (12h, 90d, 2w) or a date and time with its zone (2027-06-30T18:00:00Z)", expiry)
    .option("--json", 'print {"role", "key", "id", "label", "expiresAt"}')
    .action((options: { role: Role; label?: string; expires?: number; json?: boolean }) =>
      onDatabase(async (ctx) => {
        const created = await issueApiKey(ctx, localActor(), { role: options.role, label: options.label, expiresAt: options.expires });
        if (options.json) {
          const { role, label, expiresAt } = created.view;
          process.stdout.write(JSON.stringify({ role, key: created.key, id: created.id, label, expiresAt }) + "\n");
        } else {
          const until = created.view.expiresAt ? `, valid until ${created.view.expiresAt}` : "";
          process.stdout.write(`${options.role} key ${created.id}${until} (shown once, store it now):\n${created.key}\n`);
        }
      }),
    );
  keys
    .command("list")
    .description("every key: id, role, status, created, expires, last used (to the minute), label — never the key")
    .option("--json", "print an array of {id, role, status, label, createdAt, expiresAt, lastUsedAt, revokedAt}")
    .action((options: { json?: boolean }) =>
      onDatabase(async (ctx) => {
        const list = await listApiKeys(ctx);
        process.stdout.write(options.json ? JSON.stringify(list) + "\n" : table(list));
      }),
    );
  keys
    .command("revoke <id>")
    .description("revoke a key: every validator refuses it within seconds")
    .option("--json", "print the revoked key as keys list shows it")
    .action((id: string, options: { json?: boolean }) =>
      onDatabase(async (ctx) => {
        const revoked = await revokeApiKey(ctx, localActor(), id);
        process.stdout.write(options.json ? JSON.stringify(revoked) + "\n" : `revoked ${revoked.role} key ${revoked.id} at ${revoked.revokedAt}\n`);
      }),
    );
}
