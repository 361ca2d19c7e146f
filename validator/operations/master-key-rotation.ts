import { setTimeout as sleep } from "node:timers/promises";
import type { MasterKey } from "../secrets/master-key.js";
import { SealedBox } from "../secrets/sealed-box.js";
import { appendAudit, type Actor } from "../storage/audit-log.js";
import type { Database } from "../storage/database.js";
import { boundMasterKeyId, keyUsage, replaceSealedValue, rowsNotSealedUnder, sealedColumns, type KeyUsage } from "../storage/sealed-columns.js";
import { OperationError } from "./operation-error.js";

export interface RotationOptions {
  /** Values re-sealed per transaction. */
  batchSize: number;
  /** Pause between batches, to spare a busy live database. */
  pauseMs: number;
  /** Told after each committed batch. */
  onBatch?: (label: string, resealed: number) => void | Promise<void>;
}

export interface RotationResult {
  /** Values re-sealed by this run, per sealed column. */
  resealed: Record<string, number>;
}

/**
 * Re-seals every sealed value (storage/sealed-columns.ts) under `target`, in one transaction per batch.
 * First the database is bound to `target`, so an instance started with only the old key is refused from
 * then on; a run stopped anywhere (crash, kill) leaves values under both keys, which a validator started
 * with both serves, and running it again finishes. `loaded` are the other keys at hand: the one the
 * database is bound to must be among them, and every value must be under one of them.
 * Verifiers cannot be re-keyed without the PIN: they are re-keyed at each user's next accepted passcode.
 */
export async function rotateMasterKey(database: Database, actor: Actor, target: MasterKey, loaded: MasterKey[], options: RotationOptions): Promise<RotationResult> {
  const others = [...new Map(loaded.filter((key) => key.id !== target.id).map((key) => [key.id, key])).values()];
  const known = new Set([target.id, ...others.map((key) => key.id)]);
  const bound = await boundMasterKeyId(database.db);
  if (bound === null) throw new OperationError("invalid", `${database.description} has no master key yet: start the validator once before rotating`);
  if (!known.has(bound)) {
    throw new OperationError(
      "invalid",
      `${database.description} belongs to master key ${bound}, which is none of the keys given (${[...known].join(", ")}): ` +
        "JETON_MASTER_KEY_FILE (or JETON_PREVIOUS_MASTER_KEY_FILE) must be that key's file",
    );
  }
  const usage = await keyUsage(database.db);
  const sealed = (label: string) => sealedColumns.some((column) => column.label === label);
  const unopenable = usage.flatMap(({ label, byKey }) =>
    sealed(label) ? Object.entries(byKey).filter(([id]) => !known.has(id)).map(([id, count]) => `${count} ${label} under master key ${id}`) : [],
  );
  if (unopenable.length > 0) throw new OperationError("invalid", `cannot re-seal ${unopenable.join(", ")}: give that key as JETON_PREVIOUS_MASTER_KEY_FILE. Nothing was changed`);
  // Verifiers keep their key until their user's next accepted passcode, and a validator loads one previous
  // key: after this rotation every verifier must be under the target or under one other key at hand, or no
  // configuration could open the database. (An untagged verifier is under the key the database is bound to.)
  const lingering = [...new Set(usage.flatMap(({ label, byKey }) => (sealed(label) ? [] : Object.keys(byKey).map((id) => (id === "untagged" ? bound : id)))))].filter(
    (id) => id !== target.id,
  );
  if (lingering.length > 1 || lingering.some((id) => !known.has(id))) {
    throw new OperationError(
      "invalid",
      `PIN or emergency-password verifiers are still under master keys ${lingering.join(", ")}: after this rotation a validator could load only one ` +
        `previous key besides ${target.id}. Finish the previous rotation first (jeton keys status: those users log in, or reset their PINs), then rotate. Nothing was changed`,
    );
  }

  if (bound !== target.id) {
    await database.transaction(async (trx) => {
      await trx.updateTable("settings").set({ value: target.id }).where("name", "=", "master_key_id").execute();
      await appendAudit(trx, actor, Date.now(), { event: "master-key.rotate", result: "started", detail: { from: bound, to: target.id } });
    });
  }
  const resealed: Record<string, number> = {};
  for (const column of sealedColumns) {
    const box = new SealedBox(column.purpose, target, others);
    resealed[column.label] = 0;
    for (;;) {
      const count = await database.transaction(async (trx) => {
        const rows = await rowsNotSealedUnder(trx, column, target.id, options.batchSize);
        let replaced = 0;
        for (const row of rows) {
          const associatedData = column.associatedData?.(row.id) ?? row.id;
          const plaintext = box.open(associatedData, row, `${column.label} ${row.id}`);
          const derived = column.derived?.(plaintext, target) ?? {};
          if (await replaceSealedValue(trx, column, row, box.seal(associatedData, plaintext), derived)) replaced++;
          plaintext.fill(0);
        }
        return { read: rows.length, replaced };
      });
      if (count.read === 0) break;
      resealed[column.label] += count.replaced;
      await options.onBatch?.(column.label, resealed[column.label]!);
      if (options.pauseMs > 0) await sleep(options.pauseMs);
    }
  }
  await database.transaction((trx) => appendAudit(trx, actor, Date.now(), { event: "master-key.rotate", result: "ok", detail: { to: target.id, resealed } }));
  return { resealed };
}

export interface MasterKeyStatus {
  /** The key the database is bound to: new values are sealed under it. */
  currentKeyId: string | null;
  usage: KeyUsage[];
  /** Keys other than the current one that something still uses: they cannot be retired yet. */
  keysStillInUse: string[];
}

/** Needs no key: counts what is sealed or keyed under each master key id. */
export async function masterKeyStatus(database: Database): Promise<MasterKeyStatus> {
  const currentKeyId = await boundMasterKeyId(database.db);
  const usage = await keyUsage(database.db);
  const keysStillInUse = [...new Set(usage.flatMap(({ byKey }) => Object.keys(byKey)))].filter((id) => id !== currentKeyId && id !== "untagged").sort();
  return { currentKeyId, usage, keysStillInUse };
}
