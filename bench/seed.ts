import { createHmac } from "node:crypto";
import { createApiKey } from "../validator/operations/api-keys.js";
import { codeAt, stepAt } from "../validator/policy/totp.js";
import { masterKeyFrom } from "../validator/secrets/master-key.js";
import type { DatabaseLocation } from "../validator/storage/database.js";
import { openValidator } from "../validator/validator.js";

export const BENCH_PIN = "583920";
export const benchParameters = { algorithm: "SHA256" as const, digits: 6, period: 60, t0: 0 };

export const benchUser = (index: number) => `user${index}`;
export const benchSeed = (index: number) => createHmac("sha256", "jeton-bench").update(String(index)).digest();
export const benchSerial = (index: number) => `JT${String(index).padStart(8, "0")}`;
/** The user index of a serial made by benchSerial. */
export const tokenIndexOf = (serial: string) => Number(serial.slice(2));
/** The second (spare) token of a user seeded with one. */
export const benchSpareSerial = (index: number) => `JS${String(index).padStart(8, "0")}`;
export const benchSpareSeed = (index: number) => createHmac("sha256", "jeton-bench-spare").update(String(index)).digest();

/**
 * Users `user0…user{count-1}`, each with a SHA-256 token and the PIN already chosen, written straight to
 * the database (registering them one by one over HTTP would dominate a benchmark's set-up). Returns a
 * portal API key. Users whose index is in `spares` (from, to) also hold a spare token.
 */
export async function seedUsers(
  location: DatabaseLocation,
  masterKey: Buffer,
  count: number,
  spares: { from: number; to: number } = { from: 0, to: 0 },
): Promise<string> {
  const ctx = await openValidator({ database: location, masterKey: masterKeyFrom(masterKey) });
  const now = Date.now();
  try {
    for (let start = 0; start < count; start += 500) {
      const indexes = Array.from({ length: Math.min(500, count - start) }, (_, offset) => start + offset);
      await ctx.database.db.transaction().execute(async (trx) => {
        await trx
          .insertInto("users")
          .values(indexes.map((index) => ({ name: benchUser(index), pin_verifier: ctx.verifiers.pinVerifier(benchUser(index), BENCH_PIN), last_failure_at: null, created_at: now })))
          .execute();
        await trx
          .insertInto("tokens")
          .values(
            indexes.map((index) => {
              const sealed = ctx.vault.seal(benchSerial(index), benchSeed(index));
              return {
                serial: benchSerial(index),
                user_name: benchUser(index),
                ...benchParameters,
                sealed_secret: sealed.ciphertext,
                key_id: sealed.keyId,
                seed_fingerprint: ctx.vault.fingerprint(benchSeed(index)),
                created_at: now,
              };
            }),
          )
          .execute();
        const withSpare = indexes.filter((index) => index >= spares.from && index < spares.to);
        if (withSpare.length === 0) return;
        await trx
          .insertInto("tokens")
          .values(
            withSpare.map((index) => {
              const sealed = ctx.vault.seal(benchSpareSerial(index), benchSpareSeed(index));
              return {
                serial: benchSpareSerial(index),
                user_name: benchUser(index),
                ...benchParameters,
                sealed_secret: sealed.ciphertext,
                key_id: sealed.keyId,
                created_at: now,
              };
            }),
          )
          .execute();
      });
    }
    return (await createApiKey(ctx.database.db, "portal", "benchmark", now)).key;
  } finally {
    await ctx.database.close();
  }
}

/**
 * Unique valid passcodes for the seeded users, mirroring the validator's learned offset: each accepted
 * step moves it, so the next step of a token (last + 1) always stays in the ±1 window, however many
 * codes a token gives and however long it waited.
 */
export class PasscodeSource {
  private readonly tokens = new Map<number, { lastStep: number; offset: number }>();

  valid(index: number): string {
    const current = stepAt(Date.now(), benchParameters);
    const known = this.tokens.get(index) ?? { lastStep: -Infinity, offset: 0 };
    // One step behind the learned offset's centre, unless that step was used already.
    const step = Math.max(known.lastStep + 1, current + known.offset - 1);
    this.tokens.set(index, { lastStep: step, offset: step - current });
    return BENCH_PIN + codeAt(benchSeed(index), step, benchParameters);
  }

  /** Continues from what the validator stored, after load that sent only part of the codes prepared. */
  resume(tokens: { index: number; lastStep: number; offset: number }[]): void {
    for (const { index, lastStep, offset } of tokens) this.tokens.set(index, { lastStep, offset });
  }

  wrong(): string {
    return BENCH_PIN + "000000";
  }
}
