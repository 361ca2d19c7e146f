import { mkdirSync } from "node:fs";
import type { ServerConfig } from "./config.js";
import type { ValidatorContext } from "./context.js";
import { defaultPolicy, type VerificationPolicy } from "./policy/policy.js";
import { loadProfile } from "./profile.js";
import { loadMasterKey, type MasterKey } from "./secrets/master-key.js";
import { SeedVault } from "./secrets/seed-vault.js";
import { verifierChecks } from "./secrets/verifiers.js";
import { openDatabase, type DatabaseLocation } from "./storage/database.js";

export interface OpenOptions {
  database: DatabaseLocation;
  masterKey: MasterKey;
  policy?: VerificationPolicy;
  timeZone?: string;
  now?: () => number;
}

/** Opens storage (migrating it) and assembles what every operation needs. */
export async function openValidator(options: OpenOptions): Promise<ValidatorContext> {
  const database = await openDatabase(options.database);
  return {
    database,
    vault: new SeedVault(options.masterKey),
    verifiers: verifierChecks(options.masterKey),
    policy: options.policy ?? defaultPolicy(loadProfile(), options.timeZone),
    now: options.now ?? Date.now,
  };
}

/** The configured validator: data directory and master key file created on first start when embedded. */
export async function openConfiguredValidator(config: ServerConfig): Promise<{ ctx: ValidatorContext; keyCreated: boolean }> {
  if (config.database.kind === "sqlite") mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const { key, created } = loadMasterKey(config.masterKeyFile, config.createMasterKey);
  const ctx = await openValidator({ database: config.database, masterKey: key, timeZone: config.timeZone });
  return { ctx, keyCreated: created };
}
