import { createHash } from "node:crypto";
import type { ValidatorContext } from "../context.js";
import { MissingMasterKey } from "../secrets/sealed-box.js";

/**
 * The RADIUS State attribute of an Access-Challenge: the challenge id sealed under the master key (fresh
 * nonce, AES-256-GCM, bound to the client and the user), after the id of the key it is sealed under.
 * RADIUS travels in clear but for the password, and a challenge id is all the HTTP API needs to answer a
 * challenge: whoever sees the State must learn nothing that works through another door. Only the
 * State's SHA-256 is stored, with the user and client it was issued to and the challenge's expiry, so it
 * is single use (redeeming deletes it), bound to that user and client, and useless from a dump.
 */
const KEY_ID_LENGTH = 12;

const hashOf = (state: Buffer) => createHash("sha256").update(state).digest("base64");
const associatedData = (client: string, user: string) => `radius-state:${client}:${user}`;

export async function issueRadiusState(ctx: ValidatorContext, client: string, user: string, challengeId: string, expiresAt: number): Promise<Buffer> {
  const sealed = ctx.vault.seal(associatedData(client, user), Buffer.from(challengeId));
  const state = Buffer.concat([Buffer.from(sealed.keyId), Buffer.from(sealed.ciphertext, "base64")]);
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
  if (state.length <= KEY_ID_LENGTH) return null;
  const result = await ctx.database.transaction((trx) =>
    trx
      .deleteFrom("radius_states")
      .where("state_hash", "=", hashOf(state))
      .where("client_name", "=", client)
      .where("user_name", "=", user)
      .where("expires_at", ">=", ctx.now())
      .executeTakeFirst(),
  );
  if (result.numDeletedRows !== 1n) return null;
  const sealed = { keyId: state.subarray(0, KEY_ID_LENGTH).toString("latin1"), ciphertext: state.subarray(KEY_ID_LENGTH).toString("base64") };
  try {
    return ctx.vault.open(associatedData(client, user), sealed).toString();
  } catch (error) {
    // Sealed under a master key retired since (a rotation finished within the challenge's lifetime).
    if (error instanceof MissingMasterKey) return null;
    throw error;
  }
}
