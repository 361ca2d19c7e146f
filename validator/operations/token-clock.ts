// Authenticated clock corrections (`jeton resync`). The token accepts a new time only with
// HMAC-SHA-256(seed, "jeton-set-time/1" || time u64 LE || counter u32 LE) and a counter above the last
// one it accepted (firmware/src/set-time-policy.ts); the seed lives only here, so the validator signs.
// It signs only a time within a few seconds of its own clock (the endpoint cannot push a token into the
// future to collect its later codes) and only a counter a little above the last one the token confirmed
// (a counter near 2^32 − 1 would leave the token unable to accept any later correction). The learned
// offset starts over only when the token has applied the time — the provisioner confirms it — never when
// a MAC is merely signed.
// A resync may also trim the token's clock rate (issue 12): SetTimeTrim carries the trim in ppb, MAC'd
// with the same counter rules under its own label; its confirmation records the trim, and every
// confirmation records when the token's clock was set and to what, from which the next resync measures
// the drift rate.
import { MAX_TRIM_PPB, secretFingerprint, setTimeMac, setTimeTrimMac } from "../../common/token-service/token-protocol.js";
import type { ValidatorContext } from "../context.js";
import { constantTimeEqual } from "../secrets/constant-time.js";
import { appendAudit, type Actor } from "../storage/audit-log.js";
import { voidChallenges } from "../storage/challenge-epoch.js";
import { OperationError } from "./operation-error.js";
import { getToken, type TokenView } from "./tokens.js";

/** How far the time to sign may be from the validator's clock. */
export const MAX_SET_TIME_SKEW_SECONDS = 5;
/**
 * How far above the last confirmed counter a signed counter may be. The provisioner asks for the token's
 * counter + 1; a gap appears only when a token applied a time whose confirmation never arrived. With
 * steps of at most 16, the u32 counter outlasts 268 million corrections.
 */
export const MAX_SET_TIME_COUNTER_STEP = 16;
/** How long after signing a correction its confirmation is taken (the provisioner confirms within seconds). */
export const MAX_CONFIRMATION_AGE_SECONDS = 300;

export interface SetTimeRequest {
  time: number;
  counter: number;
  /**
   * The device's secret_fingerprint register (hex): only the token that holds this serial's seed has it,
   * so a device that merely claims the serial (or a caller without the token) gets nothing signed or
   * confirmed, and cannot move the validator's record of the token's clock.
   */
  fingerprint: string;
  /** SetTimeTrim: the trim the token is to apply, in ppb (positive: its crystal runs fast); absent: SetTime */
  trimPpb?: number;
}

/**
 * The MAC of the requested SetTime (or SetTimeTrim, when it carries a trim) under the token's seed, for
 * the token's own device only: first a device whose fingerprint is not this token's is refused (the
 * counter rules are this token's, and say nothing to another device), then a counter they do not allow.
 */
function correctionMac(ctx: ValidatorContext, serial: string, token: { sealed_secret: string; key_id: string; set_time_counter: number }, request: SetTimeRequest): string {
  const seed = ctx.vault.open(serial, { ciphertext: token.sealed_secret, keyId: token.key_id });
  const holdsSeed = constantTimeEqual(secretFingerprint(seed, serial).toString("hex"), request.fingerprint.toLowerCase());
  const mac = request.trimPpb === undefined ? setTimeMac(seed, request.time, request.counter) : setTimeTrimMac(seed, request.time, request.counter, request.trimPpb);
  seed.fill(0);
  if (!holdsSeed) {
    throw new OperationError("conflict", `the device's fingerprint is not token ${serial}'s: it does not hold that token's seed (another device, or a re-provisioned one): nothing was signed or recorded`);
  }
  checkCounter(serial, request.counter, token.set_time_counter);
  return mac.toString("hex");
}

export async function signSetTime(ctx: ValidatorContext, actor: Actor, serial: string, request: SetTimeRequest): Promise<Omit<SetTimeRequest, "fingerprint"> & { serial: string; mac: string }> {
  const now = ctx.now();
  checkTrim(request);
  if (Math.abs(request.time - now / 1000) > MAX_SET_TIME_SKEW_SECONDS) {
    throw new OperationError("invalid", `time must be within ${MAX_SET_TIME_SKEW_SECONDS} s of the validator's clock (${new Date(now).toISOString()})`);
  }
  const token = await ctx.database.db.selectFrom("tokens").selectAll().where("serial", "=", serial).executeTakeFirst();
  if (!token) throw new OperationError("not-found", `no token ${serial}`);
  if (token.disabled_at !== null) throw new OperationError("conflict", `token ${serial} is disabled`);
  const mac = correctionMac(ctx, serial, token, request);
  const trim = request.trimPpb === undefined ? {} : { trimPpb: request.trimPpb };
  await ctx.database.transaction((trx) =>
    appendAudit(trx, actor, now, {
      event: request.trimPpb === undefined ? "token.set-time-signed" : "token.set-time-trim-signed",
      result: "ok",
      serial,
      user: token.user_name,
      detail: { time: request.time, counter: request.counter, ...trim },
    }),
  );
  return { serial, time: request.time, counter: request.counter, ...trim, mac };
}

/**
 * The token answered OK to a signed correction: its codes now follow the validator's clock, so the learned
 * offset starts over at 0; its counter, the time it was set (when and to what) and, for a SetTimeTrim, its
 * trim are recorded. The MAC proves the validator signed this very correction (a trim confirmed with a
 * SetTime's MAC, or the reverse, does not match); a confirmation long after the signing is refused.
 */
export async function confirmSetTime(ctx: ValidatorContext, actor: Actor, serial: string, request: SetTimeRequest & { mac: string }): Promise<TokenView> {
  const now = ctx.now();
  checkTrim(request);
  const age = now / 1000 - request.time;
  if (age < -MAX_SET_TIME_SKEW_SECONDS || age > MAX_CONFIRMATION_AGE_SECONDS) {
    throw new OperationError("invalid", `a correction is confirmed within ${MAX_CONFIRMATION_AGE_SECONDS} s of its time (${new Date(now).toISOString()})`);
  }
  await ctx.database.transaction(async (trx) => {
    const token = await trx.selectFrom("tokens").selectAll().where("serial", "=", serial).executeTakeFirst();
    if (!token) throw new OperationError("not-found", `no token ${serial}`);
    const expected = correctionMac(ctx, serial, token, request);
    if (!constantTimeEqual(expected, request.mac.toLowerCase())) {
      throw new OperationError("invalid", `mac is not the one the validator signed for this time, counter${request.trimPpb === undefined ? "" : " and trim"}`);
    }
    await trx
      .updateTable("tokens")
      .set({
        offset_steps: 0,
        set_time_counter: request.counter,
        clock_set_at: now,
        clock_set_to: request.time,
        ...(request.trimPpb !== undefined && { clock_trim_ppb: request.trimPpb }),
      })
      .where("serial", "=", serial)
      .execute();
    // A next-code challenge opened on the old clock would teach its offset back (the change voids it, as
    // every change to a user's tokens does).
    if (token.user_name !== null) await voidChallenges(trx, token.user_name);
    const trim = request.trimPpb === undefined ? {} : { trimPpb: request.trimPpb, previousTrimPpb: token.clock_trim_ppb };
    await appendAudit(trx, actor, now, {
      event: "token.clock-confirmed",
      result: "ok",
      serial,
      user: token.user_name,
      detail: { time: request.time, counter: request.counter, previousOffsetSteps: token.offset_steps, ...trim },
    });
  });
  return getToken(ctx, serial);
}

function checkTrim(request: SetTimeRequest): void {
  const trim = request.trimPpb;
  if (trim !== undefined && !(Number.isInteger(trim) && Math.abs(trim) <= MAX_TRIM_PPB)) {
    throw new OperationError("invalid", `trimPpb must be a whole number of ppb within ±${MAX_TRIM_PPB} (±${MAX_TRIM_PPB / 1000} ppm)`);
  }
}

function checkCounter(serial: string, counter: number, confirmed: number): void {
  if (counter <= confirmed || counter > confirmed + MAX_SET_TIME_COUNTER_STEP) {
    throw new OperationError(
      "invalid",
      `counter must be ${confirmed + 1}–${confirmed + MAX_SET_TIME_COUNTER_STEP} (token ${serial} last confirmed counter ${confirmed}); a larger one would use up the token's counter space`,
    );
  }
}
