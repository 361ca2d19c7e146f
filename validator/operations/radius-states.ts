import { createHash, randomBytes } from "node:crypto";
import type { ValidatorContext } from "../context.js";

/**
 * The RADIUS State attribute of an Access-Challenge: a fresh random nonce followed by the challenge id.
 * Only its SHA-256 is stored, with the user and client it was issued to and the challenge's expiry, so
 * it is single use (redeeming deletes it), bound to that user and client, and useless from a dump.
 */
const NONCE_BYTES = 16;

const hashOf = (state: Buffer) => createHash("sha256").update(state).digest("base64");

export async function issueRadiusState(ctx: ValidatorContext, client: string, user: string, challengeId: string, expiresAt: number): Promise<Buffer> {
  const state = Buffer.concat([randomBytes(NONCE_BYTES), Buffer.from(challengeId)]);
  const now = ctx.now();
  await ctx.database.transaction(async (trx) => {
    await trx.deleteFrom("radius_states").where("expires_at", "<", now).execute();
    await trx.insertInto("radius_states").values({ state_hash: hashOf(state), client_name: client, user_name: user, expires_at: expiresAt }).execute();
  });
  return state;
}

/**
 * The challenge id a State stands for, consuming it; null when it is unknown, already used, expired, or
 * was issued to another user or client.
 */
export async function redeemRadiusState(ctx: ValidatorContext, client: string, user: string, state: Buffer): Promise<string | null> {
  if (state.length <= NONCE_BYTES) return null;
  const result = await ctx.database.transaction((trx) =>
    trx
      .deleteFrom("radius_states")
      .where("state_hash", "=", hashOf(state))
      .where("client_name", "=", client)
      .where("user_name", "=", user)
      .where("expires_at", ">=", ctx.now())
      .executeTakeFirst(),
  );
  return result.numDeletedRows === 1n ? state.subarray(NONCE_BYTES).toString() : null;
}
