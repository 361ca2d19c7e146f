import { InvalidArgumentError, Option, type Command } from "commander";
import { userInfo } from "node:os";
import { configFromEnvironment, type ServerConfig } from "../validator/config.js";
import type { ValidatorContext } from "../validator/context.js";
import { issueApiKey, listApiKeys, parseKeyExpiry, revokeApiKey, roles, type ApiKeyView, type Role } from "../validator/operations/api-keys.js";
import type { Actor } from "../validator/storage/audit-log.js";
import { masterKeyStatus, rotateMasterKey, type MasterKeyStatus } from "../validator/operations/master-key-rotation.js";
import { loadMasterKey, type MasterKey } from "../validator/secrets/master-key.js";
import type { Database } from "../validator/storage/database.js";

/** The person at this terminal, as the audit log names them. */
export const localActor = (): Actor => ({ id: `local:${userInfo().username}`, role: "operator", source: "cli" });

/** The configured master key, then the previous one during a rotation (JETON_PREVIOUS_MASTER_KEY_FILE). */
export function configuredMasterKeys(config: Pick<ServerConfig, "masterKeyFile" | "previousMasterKeyFile">): MasterKey[] {
  const keys = [loadMasterKey(config.masterKeyFile, false).key];
  if (config.previousMasterKeyFile) keys.push(loadMasterKey(config.previousMasterKeyFile, false).key);
  return keys;
}

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

/**
 * Runs `work` on the configured database without loading the validator: master-key commands work while
 * values are under two keys, which a validator refuses unless both are configured.
 */
async function onBareDatabase(work: (database: Database, config: ServerConfig) => Promise<void>): Promise<void> {
  const config = configFromEnvironment();
  // loaded when run, like the validator above
  const { openDatabase } = await import("../validator/storage/database.js");
  const database = await openDatabase(config.database);
  try {
    await work(database, config);
  } finally {
    await database.close();
  }
}

const wholeNumber = (min: number) => (text: string): number => {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min) throw new InvalidArgumentError(`must be a whole number, at least ${min}`);
  return value;
};

function statusText(status: MasterKeyStatus): string {
  const lines = [`current master key: ${status.currentKeyId ?? "none yet (the validator has never started on this database)"}`];
  for (const { label, byKey } of status.usage) {
    const old = Object.entries(byKey).filter(([id]) => id !== status.currentKeyId && id !== "untagged");
    const total = Object.values(byKey).reduce((sum, count) => sum + count, 0);
    lines.push(`${label}: ${total}, ${old.length === 0 ? "all under the current key" : old.map(([id, count]) => `${count} still under ${id}`).join(", ")}`);
  }
  lines.push(
    status.keysStillInUse.length === 0
      ? "no value uses an older master key: an older key (JETON_PREVIOUS_MASTER_KEY_FILE) can be retired"
      : `still in use: ${status.keysStillInUse.join(", ")} — keep JETON_PREVIOUS_MASTER_KEY_FILE (seeds: run \`jeton keys rotate-master\`; verifiers are re-keyed at each user's next accepted passcode)`,
  );
  return lines.join("\n") + "\n";
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
  const keys = program.command("keys").description("API keys and the master key, managed directly in the configured database (no server needed)");
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
  keys
    .command("rotate-master")
    .description(
      "re-seal every sealed value under a new master key, one transaction per batch; resumable (run it again after an interruption). " +
        "Restart the validators with JETON_MASTER_KEY_FILE=<new key> and JETON_PREVIOUS_MASTER_KEY_FILE=<old key> first (README, \"Master-key rotation\")",
    )
    .requiredOption("--new-key-file <file>", "the new master key (base64 of 32 bytes, mode 0600)")
    .option("--batch-size <n>", "values re-sealed per transaction", wholeNumber(1), 100)
    .option("--pause-ms <ms>", "pause between batches, to spare a busy database", wholeNumber(0), 0)
    .option("--json", "print {resealed, status}")
    .action((options: { newKeyFile: string; batchSize: number; pauseMs: number; json?: boolean }) =>
      onBareDatabase(async (database, config) => {
        const target = loadMasterKey(options.newKeyFile, false).key;
        const loaded = configuredMasterKeys(config);
        const result = await rotateMasterKey(database, localActor(), target, loaded, {
          batchSize: options.batchSize,
          pauseMs: options.pauseMs,
          onBatch: options.json ? undefined : (label, count) => void process.stderr.write(`${label}: ${count} re-sealed\n`),
        });
        const status = await masterKeyStatus(database);
        if (options.json) process.stdout.write(JSON.stringify({ resealed: result.resealed, status }) + "\n");
        else process.stdout.write(`re-sealed under ${target.id}: ${Object.entries(result.resealed).map(([label, count]) => `${count} ${label}`).join(", ")}\n${statusText(status)}`);
      }),
    );
  keys
    .command("status")
    .description("which master key new values are sealed under, and how many seeds and verifiers still use an older one (no key needed)")
    .option("--json", "print {currentKeyId, usage: [{label, byKey}], keysStillInUse}")
    .action((options: { json?: boolean }) =>
      onBareDatabase(async (database) => {
        const status = await masterKeyStatus(database);
        process.stdout.write(options.json ? JSON.stringify(status) + "\n" : statusText(status));
      }),
    );
}
