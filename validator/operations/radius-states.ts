import { createHash, randomBytes } from "node:crypto";
import type { ValidatorContext } from "../context.js";
import { masterKeyFrom } from "../secrets/master-key.js";
import { SealedBox } from "../secrets/sealed-box.js";

/**
 * The RADIUS State attribute of an Access-Challenge: a random handle, nothing else. RADIUS travels in
 * clear but for the password, and a challenge id is all the HTTP API needs to answer a challenge, so
 * the State must not carry it. The row stores the handle's SHA-256, with the user and client it was
 * issued to and the challenge's expiry, so it is bound to that user and client; and the challenge id
 * sealed under a key derived from the handle itself, so neither a database dump (no handle) nor the
 * wire (no row) gives the id, and every validator instance can redeem it whatever master keys it holds
 * (during a rolling key rotation too). A State is single use because its challenge is: answered once,
 * the challenge refuses every later answer.
 */
const HANDLE_BYTES = 32;

/**
 * How long a State is kept after its challenge expired: an answer that comes late (or again) is then
 * refused by the challenge's own rules, which count no failure for it, as on HTTP; only a State never
 * issued to this user and client is an unknown challenge, which counts one.
 */
const KEPT_AFTER_EXPIRY_MS = 3_600_000;

const hashOf = (handle: Buffer) => createHash("sha256").update(handle).digest("base64");
const boxOf = (handle: Buffer) => new SealedBox("radius-state", masterKeyFrom(handle));
const associatedData = (client: string, user: string) => `radius-state:${client}:${user}`;

export async function issueRadiusState(ctx: ValidatorContext, client: string, user: string, challengeId: string, expiresAt: number): Promise<Buffer> {
  const handle = randomBytes(HANDLE_BYTES);
  const sealed = boxOf(handle).seal(associatedData(client, user), Buffer.from(challengeId));
  const now = ctx.now();
  await ctx.database.transaction(async (trx) => {
    await trx.deleteFrom("radius_states").where("expires_at", "<", now - KEPT_AFTER_EXPIRY_MS).execute();
    await trx
      .insertInto("radius_states")
      .values({ state_hash: hashOf(handle), client_name: client, user_name: user, expires_at: expiresAt, sealed_challenge: sealed.ciphertext })
      .execute();
  });
  return handle;
}

/**
 * The challenge id a State stands for; null when it is unknown or was issued to another user or client.
 * Nothing is consumed here: the answer is decided, and the challenge consumed, in the attempt's own
 * transaction, so a request whose decision fails (a lost connection) leaves the State for the NAS's retry.
 */
export async function radiusStateChallenge(ctx: ValidatorContext, client: string, user: string, handle: Buffer): Promise<string | null> {
  if (handle.length !== HANDLE_BYTES) return null;
  const row = await ctx.database.db
    .selectFrom("radius_states")
    .select("sealed_challenge")
    .where("state_hash", "=", hashOf(handle))
    .where("client_name", "=", client)
    .where("user_name", "=", user)
    .executeTakeFirst();
  if (!row) return null;
  const box = boxOf(handle);
  return box.open(associatedData(client, user), { ciphertext: row.sealed_challenge, keyId: box.current.id }, "a RADIUS State").toString();
}
