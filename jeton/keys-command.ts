import { Option, type Command } from "commander";
import { configFromEnvironment } from "../validator/config.js";
import { createApiKey, roles, type Role } from "../validator/operations/api-keys.js";
import { recordAudit } from "../validator/operations/audit.js";
import { userInfo } from "node:os";

export function keysCommand(program: Command): void {
  const keys = program.command("keys").description("API keys, created directly in the configured database (no server needed)");
  keys
    .command("create")
    .description("create an API key and print it once (only its hash is stored)")
    .addOption(new Option("--role <role>", "what the key may do").choices(roles).makeOptionMandatory())
    .option("--label <text>", "who or what the key is for")
    .option("--json", 'print {"role", "key", "id"}')
    .action(async (options: { role: Role; label?: string; json?: boolean }) => {
      // loaded when run: storage and metrics modules would slow every other `jeton` command's start
      const { openConfiguredValidator } = await import("../validator/validator.js");
      const { ctx } = await openConfiguredValidator(configFromEnvironment());
      try {
        const now = ctx.now();
        const created = await createApiKey(ctx.database.db, options.role, options.label ?? null, now);
        await recordAudit(ctx, { id: `local:${userInfo().username}`, role: "operator", source: "cli" }, now, {
          event: "api-key.create",
          result: "ok",
          detail: { keyId: created.id, role: options.role },
        });
        if (options.json) process.stdout.write(JSON.stringify({ role: options.role, key: created.key, id: created.id }) + "\n");
        else process.stdout.write(`${options.role} key (shown once, store it now):\n${created.key}\n`);
      } finally {
        await ctx.database.close();
      }
    });
}
