import { mkdirSync } from "node:fs";
import type { ServerConfig } from "./config.js";
import type { ValidatorContext } from "./context.js";
import { defaultPolicy, type VerificationPolicy } from "./policy/policy.js";
import { backfillSeedFingerprints } from "./operations/seed-fingerprints.js";
import { loadProfile } from "../common/profile.js";
import { Metrics } from "./observability/metrics.js";
import { loadMasterKey, type MasterKey } from "./secrets/master-key.js";
import { SeedVault } from "./secrets/seed-vault.js";
import { verifierChecks } from "./secrets/verifiers.js";
import { openDatabase, type Database, type DatabaseLocation } from "./storage/database.js";
import { refuseSharedSqliteFiles } from "./storage/private-files.js";

export interface OpenOptions {
  database: DatabaseLocation;
  masterKey: MasterKey;
  policy?: VerificationPolicy;
  timeZone?: string;
  autoUnlockMinutes?: number | null;
  now?: () => number;
  /** Told what the start-up repairs found (tokens disabled for sharing a seed); stderr by default. */
  warn?: (line: string) => void;
}

/** Opens storage (migrating it) and assembles what every operation needs. */
export async function openValidator(options: OpenOptions): Promise<ValidatorContext> {
  const metrics = new Metrics();
  const database = await openDatabase(options.database, metrics.storageEvents);
  try {
    await bindMasterKey(database, options.masterKey);
  } catch (error) {
    await database.close();
    throw error;
  }
  const ctx: ValidatorContext = {
    database,
    vault: new SeedVault(options.masterKey),
    verifiers: verifierChecks(options.masterKey),
    policy: options.policy ?? defaultPolicy(loadProfile(), options.timeZone, options.autoUnlockMinutes ?? null),
    now: options.now ?? Date.now,
    metrics,
  };
  try {
    const warn = options.warn ?? ((line: string) => process.stderr.write(`jeton: ${line}\n`));
    for (const line of await backfillSeedFingerprints(ctx)) warn(line);
  } catch (error) {
    await database.close();
    throw error;
  }
  return ctx;
}

/** The configured validator: data directory and master key file created on first start when embedded. */
export async function openConfiguredValidator(config: ServerConfig): Promise<{ ctx: ValidatorContext; keyCreated: boolean }> {
  if (config.database.kind === "sqlite") {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    // Before the key is created there: a key file in a directory others can reach is no secret.
    refuseSharedSqliteFiles(config.database.file);
  }
  const { key, created } = loadMasterKey(config.masterKeyFile, config.createMasterKey);
  const ctx = await openValidator({ database: config.database, masterKey: key, timeZone: config.timeZone, autoUnlockMinutes: config.autoUnlockMinutes });
  return { ctx, keyCreated: created };
}

/**
 * The first master key that opens a database is recorded there; any other key is refused at start-up,
 * so an instance started with a fresh key (say, on a new machine) cannot seal seeds no other instance
 * can open.
 */
async function bindMasterKey(database: Database, key: MasterKey): Promise<void> {
  await database.db
    .insertInto("settings")
    .values({ name: "master_key_id", value: key.id })
    .onConflict((conflict) => conflict.column("name").doNothing())
    .execute();
  const bound = await database.db.selectFrom("settings").select("value").where("name", "=", "master_key_id").executeTakeFirstOrThrow();
  if (bound.value !== key.id) {
    throw new Error(
      `${database.description} belongs to master key ${bound.value}, but the configured key is ${key.id}: ` +
        "point JETON_MASTER_KEY_FILE at the key this database was created with",
    );
  }
}
