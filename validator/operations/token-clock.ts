// Authorisation for a token clock correction (`jeton resync`). The token accepts a new time only
// with HMAC-SHA-256(seed, "jeton-set-time/1" || time u64 LE || counter u32 LE); the seed lives only
// here, so the validator signs — and only for a time within a few seconds of its own clock, so the
// endpoint cannot be used to push a token into the future and collect its later codes.
// (Added by the provisioner work; see firmware/services/jeton-token.md for the construction.)
// The token service's own construction, shared with the provisioner and the firmware tests.
import { setTimeMac } from "../../common/token-service/token-protocol.js";
import type { ValidatorContext } from "../context.js";
import { appendAudit, type Actor } from "../storage/audit-log.js";
import { OperationError } from "./operation-error.js";

/** How far the requested time may be from the validator's clock. */
export const MAX_SKEW_SECONDS = 5;

export interface SignedClock {
  serial: string;
  time: number;
  counter: number;
  /** hex */
  mac: string;
}

export async function signTokenClock(ctx: ValidatorContext, actor: Actor, serial: string, body: { time: number; counter: number }): Promise<SignedClock> {
  const now = ctx.now();
  if (Math.abs(body.time - now / 1000) > MAX_SKEW_SECONDS) {
    throw new OperationError("invalid", `time must be within ${MAX_SKEW_SECONDS} s of the validator's clock (${new Date(now).toISOString()})`);
  }
  const token = await ctx.database.db.selectFrom("tokens").selectAll().where("serial", "=", serial).executeTakeFirst();
  if (!token) throw new OperationError("not-found", `no token ${serial}`);
  if (token.disabled_at !== null) throw new OperationError("conflict", `token ${serial} is disabled`);
  const seed = ctx.vault.open(serial, { ciphertext: token.sealed_secret, keyId: token.key_id });
  const mac = setTimeMac(seed, body.time, body.counter).toString("hex");
  seed.fill(0);
  // The signed time is the validator's own clock, so once the token applies it its codes follow the
  // validator's steps: the learned offset starts over at 0. (Should the token never apply it, the next
  // login answers one next-code challenge and the offset is learned again.)
  await ctx.database.transaction(async (trx) => {
    await trx.updateTable("tokens").set({ offset_steps: 0 }).where("serial", "=", serial).execute();
    await appendAudit(trx, actor, now, {
      event: "token.set-time-signed",
      result: "ok",
      serial,
      user: token.user_name,
      detail: { time: body.time, counter: body.counter, previousOffsetSteps: token.offset_steps },
    });
  });
  return { serial, time: body.time, counter: body.counter, mac };
}
