import { sql, type Kysely } from "kysely";
import type { MasterKey } from "../secrets/master-key.js";
import { radiusSecretAssociatedData, SEED_PURPOSE, seedFingerprint } from "../secrets/seed-vault.js";
import { verifierKeyPattern } from "../secrets/verifiers.js";
import type { Schema } from "./schema.js";

/**
 * A column of values sealed under the master key (secrets/sealed-box.ts), with the column naming the key
 * each value is sealed under. A master-key rotation (operations/master-key-rotation.ts) re-seals every
 * column listed in `sealedColumns`, and `jeton keys status` counts them: a new sealed column is one more
 * entry there.
 */
export interface SealedColumn {
  /** What `jeton keys status` calls the values. */
  label: string;
  table: string;
  /** A single-column primary key, which is also the associated data the value is sealed with. */
  primaryKey: string;
  ciphertext: string;
  keyId: string;
  /** The key-derivation purpose it is sealed under (SealedBox.purpose). */
  purpose: string;
  /** The associated data a value is sealed with, from its primary key (the primary key itself by default). */
  associatedData?: (id: string) => string;
  /** Columns derived from the plaintext with the master key, recomputed under the new key. */
  derived?: (plaintext: Buffer, key: MasterKey) => Record<string, string>;
}

export const sealedColumns: SealedColumn[] = [
  { label: "token seeds", table: "tokens", primaryKey: "serial", ciphertext: "sealed_secret", keyId: "key_id", purpose: SEED_PURPOSE, derived: (seed, key) => ({ seed_fingerprint: seedFingerprint(key, seed) }) },
  { label: "RADIUS client secrets", table: "radius_clients", primaryKey: "name", ciphertext: "sealed_secret", keyId: "key_id", purpose: SEED_PURPOSE, associatedData: radiusSecretAssociatedData },
];

/** Columns of keyed verifiers (secrets/verifiers.ts): re-keyed only at the user's next accepted passcode. */
export const verifierColumns = [
  { label: "PIN verifiers", table: "users", column: "pin_verifier" },
  { label: "emergency-password verifiers", table: "emergency_passwords", column: "verifier" },
] as const;

/** The id of the master key the database is bound to (null before its first start): new values are sealed under it. */
export async function boundMasterKeyId(db: Kysely<Schema>): Promise<string | null> {
  const bound = await db.selectFrom("settings").select("value").where("name", "=", "master_key_id").executeTakeFirst();
  return bound?.value ?? null;
}

export interface SealedRow {
  id: string;
  ciphertext: string;
  keyId: string;
}

/** Up to `limit` values not sealed under `keyId`, in primary-key order. */
export async function rowsNotSealedUnder(db: Kysely<Schema>, column: SealedColumn, keyId: string, limit: number): Promise<SealedRow[]> {
  const { rows } = await sql<SealedRow>`
    SELECT ${sql.ref(column.primaryKey)} AS id, ${sql.ref(column.ciphertext)} AS ciphertext, ${sql.ref(column.keyId)} AS "keyId"
    FROM ${sql.table(column.table)} WHERE ${sql.ref(column.keyId)} <> ${keyId}
    ORDER BY ${sql.ref(column.primaryKey)} LIMIT ${limit}`.execute(db);
  return rows;
}

/**
 * Replaces one sealed value, only if it is still the one that was read (a value rewritten meanwhile, a
 * token registered again say, is left for the next pass). Returns whether it was replaced.
 */
export async function replaceSealedValue(
  db: Kysely<Schema>,
  column: SealedColumn,
  row: SealedRow,
  sealed: { ciphertext: string; keyId: string },
  derived: Record<string, string>,
): Promise<boolean> {
  const assignments = [
    sql`${sql.ref(column.ciphertext)} = ${sealed.ciphertext}`,
    sql`${sql.ref(column.keyId)} = ${sealed.keyId}`,
    // A derived column left empty stays empty (a token disabled for sharing its seed has no fingerprint).
    ...Object.entries(derived).map(([name, value]) => sql`${sql.ref(name)} = CASE WHEN ${sql.ref(name)} IS NULL THEN NULL ELSE ${value} END`),
  ];
  const result = await sql`
    UPDATE ${sql.table(column.table)} SET ${sql.join(assignments)}
    WHERE ${sql.ref(column.primaryKey)} = ${row.id} AND ${sql.ref(column.ciphertext)} = ${row.ciphertext}`.execute(db);
  return Number(result.numAffectedRows ?? 0n) === 1;
}

/** How many values of each sealed and verifier column are under each master key. */
export interface KeyUsage {
  label: string;
  byKey: Record<string, number>;
}

export async function keyUsage(db: Kysely<Schema>): Promise<KeyUsage[]> {
  const usage: KeyUsage[] = [];
  for (const column of sealedColumns) {
    const { rows } = await sql<{ key_id: string; count: number | string }>`
      SELECT ${sql.ref(column.keyId)} AS key_id, COUNT(*) AS count FROM ${sql.table(column.table)} GROUP BY ${sql.ref(column.keyId)}`.execute(db);
    usage.push({ label: column.label, byKey: Object.fromEntries(rows.map((row) => [row.key_id, Number(row.count)])) });
  }
  for (const column of verifierColumns) {
    // The tag is `key:<12 hex>:`; an untagged verifier (a database never bound) counts as "untagged".
    const { rows } = await sql<{ key_id: string; count: number | string }>`
      SELECT CASE WHEN ${sql.ref(column.column)} LIKE ${verifierKeyPattern("____________")} THEN SUBSTR(${sql.ref(column.column)}, 5, 12) ELSE 'untagged' END AS key_id,
             COUNT(*) AS count
      FROM ${sql.table(column.table)} WHERE ${sql.ref(column.column)} IS NOT NULL GROUP BY 1`.execute(db);
    usage.push({ label: column.label, byKey: Object.fromEntries(rows.map((row) => [row.key_id, Number(row.count)])) });
  }
  return usage;
}
