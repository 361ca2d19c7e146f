// Tokens registered before seeds were fingerprinted (migration 0002) get their fingerprint at start-up:
// the migration cannot compute it, it needs the master key. Should two existing tokens share a seed, the
// older keeps it and the younger is disabled (audited, and `enable` refuses it), since one passcode
// would otherwise be accepted for both.
import type { ValidatorContext } from "../context.js";
import { appendAudit, type Actor } from "../storage/audit-log.js";

const startUp: Actor = { id: "system:start-up", role: "system", source: "start-up" };

/** Fills in missing seed fingerprints; returns one line per token disabled for sharing a seed. */
export async function backfillSeedFingerprints(ctx: ValidatorContext): Promise<string[]> {
  const pending = await ctx.database.db
    .selectFrom("tokens")
    .select(["serial", "sealed_secret", "key_id"])
    .where("seed_fingerprint", "is", null)
    .orderBy("created_at")
    .orderBy("serial")
    .execute();
  const warnings: string[] = [];
  for (const token of pending) {
    const seed = ctx.vault.open(token.serial, { ciphertext: token.sealed_secret, keyId: token.key_id });
    const fingerprint = ctx.vault.fingerprint(seed);
    seed.fill(0);
    const now = ctx.now();
    const sharedWith = await ctx.database.transaction(async (trx) => {
      const holder = await trx.selectFrom("tokens").select("serial").where("seed_fingerprint", "=", fingerprint).executeTakeFirst();
      if (!holder) {
        // (several instances starting together compute the same value; the first one's update wins)
        await trx.updateTable("tokens").set({ seed_fingerprint: fingerprint }).where("serial", "=", token.serial).where("seed_fingerprint", "is", null).execute();
        return undefined;
      }
      if (holder.serial === token.serial) return undefined;
      const disabled = await trx
        .updateTable("tokens")
        .set({ disabled_at: now, disabled_reason: "other" })
        .where("serial", "=", token.serial)
        .where("disabled_at", "is", null)
        .executeTakeFirst();
      if (Number(disabled.numUpdatedRows) > 0) {
        await appendAudit(trx, startUp, now, { event: "token.disable", result: "ok", serial: token.serial, detail: { reason: "seed-shared", with: holder.serial } });
      }
      return holder.serial;
    });
    if (sharedWith !== undefined) warnings.push(`token ${token.serial} has the same secret as token ${sharedWith}: it is disabled (re-provision it)`);
  }
  return warnings;
}
