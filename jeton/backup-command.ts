import type { Command } from "commander";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { loadProfile } from "../common/profile.js";
import { configFromEnvironment, type ServerConfig } from "../validator/config.js";
import { defaultPolicy } from "../validator/policy/policy.js";
import { loadMasterKey } from "../validator/secrets/master-key.js";
import { refuseSharedSqliteFiles } from "../validator/storage/private-files.js";
import type { RestoreSettlement } from "../validator/storage/restored-state.js";
import { configuredMasterKeys, localActor } from "./keys-command.js";

/** The embedded database's file; PostgreSQL has its own tools. */
function embeddedFile(config: ServerConfig, command: string): string {
  if (config.database.kind !== "sqlite") {
    throw new Error(`jeton ${command} is for the embedded SQLite database; with DATABASE_URL set use pg_dump / pg_restore (see README, "Backups")`);
  }
  return config.database.file;
}

const keyReminder = (masterKeyId: string | null) =>
  `it needs master key ${masterKeyId ?? "(none bound yet)"}, which is NOT in the copy: back the key file up too, kept apart from the database copies`;

/** What the restore did so that the backup brings nothing back, for the operator to check. */
function settlementSaid(settlement: RestoreSettlement, replaced: boolean): string {
  const { tokensAdvanced, ended, carriedForward, replacedUnreadable } = settlement;
  const lines = [
    `codes shown until now are spent (${tokensAdvanced} token(s)): users wait a minute or two for their token's next code`,
    `ended: ${ended.consoleSessions} console session(s), ${ended.challenges} challenge(s), ${ended.radiusStates} RADIUS State(s)`,
  ];
  if (carriedForward) {
    const taken = Object.entries(carriedForward).filter(([, count]) => count > 0).map(([what, count]) => `${what} ${count}`);
    lines.push(`carried forward from the replaced database: ${taken.length > 0 ? taken.join(", ") : "nothing had changed"}`);
  } else if (replaced) {
    lines.push(`WARNING: the replaced database could not be read (${replacedUnreadable}): revoke again the API keys, disable again the tokens and remove again the staff changed since the backup`);
  } else {
    lines.push("no database was replaced: revoke again the API keys, disable again the tokens and remove again the staff changed since the backup");
  }
  lines.push("tokens, keys and staff added since the backup are not in it: register, create and add them again");
  return lines.join("\n");
}

export function backupCommands(program: Command): void {
  program
    .command("backup <file>")
    .description("write a consistent copy of the embedded database to <file> (new, mode 0600) while the server runs, and its authentication to <file>.mac; the master key is not in it")
    .option("--json", 'print {"file", "masterKeyId", "pages", "macFile"}')
    .action(async (file: string, options: { json?: boolean }) => {
      const target = resolve(file);
      const config = configFromEnvironment();
      const { backupSqlite } = await import("../validator/storage/sqlite-backup.js");
      const facts = await backupSqlite(embeddedFile(config, "backup"), target, loadMasterKey(config.masterKeyFile, false).key);
      if (options.json) process.stdout.write(JSON.stringify({ file: target, ...facts }) + "\n");
      else process.stdout.write(`backed up to ${target} (${facts.pages} pages, integrity checked), authenticated in ${facts.macFile} (keep the two together); ${keyReminder(facts.masterKeyId)}\n`);
    });
  program
    .command("restore <file>")
    .description("put a backup in place of the embedded database (server stopped); refuses to overwrite unless --replace, which moves the current one aside")
    .option("--replace", "move the existing database aside (to <name>.before-restore-<time>) instead of refusing; refused while a server has it open")
    .option("--unauthenticated", "restore a backup without its <file>.mac (one made before backups were authenticated): knowingly, since an edited copy is then restored as it is")
    .option("--json", 'print {"file", "masterKeyId", "movedAside"}')
    .action(async (file: string, options: { replace?: boolean; unauthenticated?: boolean; json?: boolean }) => {
      const config = configFromEnvironment();
      const target = embeddedFile(config, "restore");
      mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
      refuseSharedSqliteFiles(target);
      const { restoreSqlite } = await import("../validator/storage/sqlite-backup.js");
      const { directWindow } = defaultPolicy(loadProfile());
      // A backup made before a rotation is authenticated under the previous key.
      const authentication = options.unauthenticated ? "unauthenticated" : configuredMasterKeys(config);
      const facts = await restoreSqlite(resolve(file), target, { replace: options.replace ?? false, now: new Date(), actor: localActor(), directWindow, authentication });
      if (options.json) {
        process.stdout.write(JSON.stringify({ file: target, masterKeyId: facts.masterKeyId, movedAside: facts.movedAside, settlement: facts.settlement }) + "\n");
        return;
      }
      const aside = facts.movedAside ? `; the previous database is now ${facts.movedAside}` : "";
      process.stdout.write(`restored ${target}${aside}; ${keyReminder(facts.masterKeyId)} (JETON_MASTER_KEY_FILE)\n`);
      process.stdout.write(settlementSaid(facts.settlement, facts.movedAside !== null) + "\n");
    });
}
