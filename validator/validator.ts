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
import { unknownIdentifierFingerprint } from "./secrets/identifier-fingerprint.js";
import { openDatabase, type Database, type DatabaseLocation } from "./storage/database.js";
import { refuseSharedSqliteFiles } from "./storage/private-files.js";
import { boundMasterKeyId, keyUsage } from "./storage/sealed-columns.js";

export interface OpenOptions {
  database: DatabaseLocation;
  masterKey: MasterKey;
  /** During a rotation: the key being replaced (see README, "Master-key rotation"). */
  previousMasterKey?: MasterKey;
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
  const previous = options.previousMasterKey ? [options.previousMasterKey] : [];
  const warn = options.warn ?? ((line: string) => process.stderr.write(`jeton: ${line}\n`));
  try {
    await bindMasterKey(database, options.masterKey, options.previousMasterKey);
    for (const line of await refuseValuesUnderOtherKeys(database, options.masterKey, options.previousMasterKey)) warn(line);
  } catch (error) {
    await database.close();
    throw error;
  }
  const ctx: ValidatorContext = {
    database,
    vault: new SeedVault(options.masterKey, previous),
    verifiers: verifierChecks(options.masterKey, previous),
    unknownIdentifier: unknownIdentifierFingerprint(options.masterKey),
    policy: options.policy ?? defaultPolicy(loadProfile(), options.timeZone, options.autoUnlockMinutes ?? null),
    now: options.now ?? Date.now,
    metrics,
  };
  try {
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
  const previousMasterKey = config.previousMasterKeyFile ? loadMasterKey(config.previousMasterKeyFile, false).key : undefined;
  const ctx = await openValidator({ database: config.database, masterKey: key, previousMasterKey, timeZone: config.timeZone, autoUnlockMinutes: config.autoUnlockMinutes });
  return { ctx, keyCreated: created };
}

/**
 * The first master key that opens a database is recorded there; any other key is refused at start-up,
 * so an instance started with a fresh key (say, on a new machine) cannot seal seeds no other instance
 * can open. During a rotation the database may be bound to either of the two configured keys: to the
 * previous one until `jeton keys rotate-master` moves it to the new one.
 */
async function bindMasterKey(database: Database, key: MasterKey, previous: MasterKey | undefined): Promise<void> {
  await database.db
    .insertInto("settings")
    .values({ name: "master_key_id", value: key.id })
    .onConflict((conflict) => conflict.column("name").doNothing())
    .execute();
  const bound = (await boundMasterKeyId(database.db))!;
  if (bound === key.id || bound === previous?.id) return;
  throw new Error(
    `${database.description} belongs to master key ${bound}, but the configured key is ${key.id}` +
      (previous ? ` (and the previous key ${previous.id})` : "") +
      ": point JETON_MASTER_KEY_FILE at the key this database was created with" +
      " (during a master-key rotation: JETON_MASTER_KEY_FILE at the new key, JETON_PREVIOUS_MASTER_KEY_FILE at the old one)",
  );
}

/**
 * Refuses to start while values are sealed or keyed under a key that is not loaded (a rotation not
 * finished, and the previous key left out): their users could not log in. Returns a line to tell when the
 * previous key is configured but nothing uses it any more.
 */
async function refuseValuesUnderOtherKeys(database: Database, key: MasterKey, previous: MasterKey | undefined): Promise<string[]> {
  const loaded = new Set([key.id, previous?.id, "untagged"]);
  const usage = await keyUsage(database.db);
  const missing = usage.flatMap(({ label, byKey }) =>
    Object.entries(byKey)
      .filter(([id]) => !loaded.has(id))
      .map(([id, count]) => `${count} ${label} under master key ${id}`),
  );
  if (missing.length > 0) {
    throw new Error(
      `${database.description} still has ${missing.join(", ")}, which the configured key${previous ? "s do" : " does"} not open: ` +
        "a master-key rotation is not finished. Set JETON_PREVIOUS_MASTER_KEY_FILE to that key's file (JETON_MASTER_KEY_FILE stays the new key), " +
        "then finish it with `jeton keys rotate-master` (see README, \"Master-key rotation\")",
    );
  }
  if (previous && usage.every(({ byKey }) => !byKey[previous.id])) {
    return [`nothing uses the previous master key ${previous.id} any more: JETON_PREVIOUS_MASTER_KEY_FILE can be removed and that key retired`];
  }
  return [];
}
