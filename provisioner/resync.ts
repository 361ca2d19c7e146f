// Clock re-synchronisation: measure the token's offset from the reference clock (the validator's) and,
// from the time since its clock was last set (the validator records it), its drift rate; then correct
// it with an authenticated set-time. The validator holds the seed, so it signs (set-time-mac, or
// set-time-trim-mac when the time since the last set is long enough for a meaningful rate: the token
// then also trims its clock rate) and the seed never leaves it. A slow token is set forward up to the
// profile's bound, with a SetTime when no rate is trimmed; a fast one is set back with a SetTimeTrim
// (bounded, confirmed with the token's button). Once the token answered OK, the provisioner tells the
// validator (POST …/clock-confirmed), which only then resets the offset it had learned and records the
// set time and trim: a signed correction the token never applied changes nothing.
import { assessDrift, describeDrift, type DriftAssessment } from "../common/drift-rate.js";
import { CONFIRMATION_TIMEOUT_MS, type TokenClient } from "../common/token-service/token-client.js";
import { ClockState, resultName, TokenResult } from "../common/token-service/token-protocol.js";
import { CommandFailure, exitCodes } from "../common/failure.js";
import type { ReferenceClock } from "./reference-clock.js";
import type { ProvisionerProfile } from "./token-profile.js";
import type { TokenRecord, ValidatorClient } from "./validator-client.js";
import { MAX_CLOCK_OFFSET_SECONDS, measureClockOffset } from "./verify.js";

/** The largest backward correction a token takes (firmware bound, agreed wire format). */
export const MAX_BACKWARD_CORRECTION_SECONDS = 300;
/** A forward SetTimeTrim needs no button: firmware that has the command answers at once. */
const SET_FORWARD_TIMEOUT_MS = 3_000;

export interface ResyncOutcome {
  serial: string;
  /** device time minus reference time before the correction (s) */
  measuredOffsetSeconds: number;
  /** residual drift rate since the clock was last set (ppm, positive: fast), when that time is known */
  driftPpm?: number;
  /** days since the clock was last set, when known */
  daysSinceSet?: number;
  /** the trim sent with the correction (ppb), when a rate was measured */
  trimPpb?: number;
  /** "corrected" after a set-time, "in-sync" when nothing was needed */
  action: "corrected" | "in-sync";
  counter?: number;
  offsetAfterSeconds: number;
  clockSource: ReferenceClock["source"];
}

export async function resyncToken(
  ctx: { token: TokenClient; validator: ValidatorClient; clock: ReferenceClock; profile: ProvisionerProfile; say(line: string): void },
): Promise<ResyncOutcome> {
  const { token, validator, clock, profile, say } = ctx;
  if (!(await token.provisioned())) throw new CommandFailure("the token is not provisioned: nothing to re-synchronise", exitCodes.refused);
  const serial = await token.serial();
  if ((await token.clockState()) !== ClockState.Ok) {
    throw new CommandFailure(`token ${serial} has lost its clock's integrity: it must be re-provisioned (jeton wipe, then jeton provision)`, exitCodes.refused);
  }
  const record = await validator.findToken(serial);
  if (!record) throw new CommandFailure(`token ${serial} is not registered with the validator`, exitCodes.refused);

  const measured = (await measureClockOffset(token, clock)).offsetSeconds;
  say(`token ${serial}: clock ${measured >= 0 ? "+" : ""}${measured} s from the ${clock.source} clock`);
  const drift = driftSinceSet(record, measured, clock);
  if (drift.elapsedSeconds !== null && drift.assessment.ppm !== null) {
    say(`token ${serial} ${describeDrift(measured, drift.elapsedSeconds, drift.assessment.ppm)}${trimNote(drift.assessment)}`);
  }
  const base = {
    serial,
    measuredOffsetSeconds: measured,
    clockSource: clock.source,
    ...(drift.assessment.ppm !== null && { driftPpm: Math.round(drift.assessment.ppm * 100) / 100, daysSinceSet: Math.round(drift.elapsedSeconds! / 864) / 100 }),
  };
  if (Math.abs(measured) <= 1) return { ...base, action: "in-sync", offsetAfterSeconds: measured };
  if (measured > 0 && measured <= MAX_CLOCK_OFFSET_SECONDS && drift.assessment.trimPpb === null) return { ...base, action: "in-sync", offsetAfterSeconds: measured };
  if (measured > MAX_BACKWARD_CORRECTION_SECONDS) {
    throw new CommandFailure(
      `token ${serial} is ${measured} s fast, more than the ${MAX_BACKWARD_CORRECTION_SECONDS} s a token may be set back: re-provision it (jeton wipe, then jeton provision)`,
      exitCodes.refused,
      base,
    );
  }
  if (-measured > profile.maxForwardCorrectionSeconds) {
    throw new CommandFailure(
      `token ${serial} is ${-measured} s slow, more than the ${profile.maxForwardCorrectionSeconds} s a token accepts: re-provision it (jeton wipe, then jeton provision)`,
      exitCodes.refused,
      base,
    );
  }

  // A trim when a rate was measured; a fast token is set back only by a SetTimeTrim (keeping its trim
  // when no rate could be measured); otherwise a plain SetTime, which every firmware takes.
  let trimPpb = drift.assessment.trimPpb ?? (measured > 0 ? (record.clock?.trimPpb ?? 0) : undefined);
  const counter = (await token.setTimeCounter()) + 1;
  // Proves to the validator that this device holds the serial's seed: it signs and records nothing for another.
  const fingerprint = (await token.secretFingerprint()).toString("hex");
  let time = Math.round(clock.now() / 1000);
  const path = `/v1/tokens/${encodeURIComponent(serial)}`;
  let result: number | undefined;
  let mac = "";
  if (trimPpb !== undefined) {
    mac = ((await validator.call("POST", `${path}/set-time-trim-mac`, { time, counter, trimPpb, fingerprint })) as { mac: string }).mac;
    if (measured > 0) say(`setting token ${serial} back ${measured} s: press its button to confirm`);
    try {
      // Only a backward correction waits for the button.
      result = await token.setTimeTrim(time, counter, trimPpb, Buffer.from(mac, "hex"), measured > 0 ? CONFIRMATION_TIMEOUT_MS : SET_FORWARD_TIMEOUT_MS);
    } catch (error) {
      if (measured > 0) {
        throw new CommandFailure(
          `token ${serial} is ${measured} s fast; the token accepts only forward corrections, so a fast clock needs re-provisioning ` +
            `(jeton wipe, then jeton provision): its firmware did not answer SetTimeTrim (${(error as Error).message})`,
          exitCodes.refused,
          base,
        );
      }
      // Firmware from before trims: the unanswered command used nothing, so the same counter sets the time.
      say(`token ${serial} did not answer SetTimeTrim (firmware without trims): correcting its time only`);
      trimPpb = undefined;
      time = Math.round(clock.now() / 1000);
    }
  }
  if (trimPpb === undefined) {
    mac = ((await validator.call("POST", `${path}/set-time-mac`, { time, counter, fingerprint })) as { mac: string }).mac;
    result = await token.setTime({ time, counter, mac: Buffer.from(mac, "hex") });
  }
  if (result !== TokenResult.Ok) {
    const what = trimPpb === undefined ? "set-time" : "set-time with trim";
    throw new CommandFailure(`token ${serial} refused the authenticated ${what}: ${resultName(result ?? -1)}`, exitCodes.refused, base);
  }
  try {
    await validator.call("POST", `${path}/clock-confirmed`, { time, counter, mac, fingerprint, ...(trimPpb !== undefined && { trimPpb }) });
  } catch (error) {
    throw new CommandFailure(
      `token ${serial} applied the new time (counter ${counter}), but the validator was not told (${(error as Error).message}): ` +
        "it keeps the offset it had learned, so the user's next login may answer a next-code challenge",
      (error as CommandFailure).exitCode ?? exitCodes.refused,
      base,
    );
  }
  const after = (await measureClockOffset(token, clock)).offsetSeconds;
  const trimmed = trimPpb === undefined ? "" : `, trim ${trimPpb >= 0 ? "+" : ""}${trimPpb} ppb`;
  say(`authenticated set-time accepted (counter ${counter}${trimmed}); clock now ${after >= 0 ? "+" : ""}${after} s`);
  return { ...base, action: "corrected", counter, offsetAfterSeconds: after, ...(trimPpb !== undefined && { trimPpb }) };
}

/** The drift since the validator last recorded the token's clock as set (unknown for tokens set elsewhere). */
function driftSinceSet(record: TokenRecord, measured: number, clock: ReferenceClock): { elapsedSeconds: number | null; assessment: DriftAssessment } {
  const setAt = record.clock?.setAt ? Date.parse(record.clock.setAt) : Number.NaN;
  const elapsedSeconds = Number.isFinite(setAt) ? (clock.now() - setAt) / 1000 : null;
  return { elapsedSeconds, assessment: assessDrift({ offsetSeconds: measured, elapsedSeconds, currentTrimPpb: record.clock?.trimPpb ?? 0 }) };
}

function trimNote(assessment: DriftAssessment): string {
  switch (assessment.rate) {
    case "measured":
      return `; trimming to ${assessment.trimPpb >= 0 ? "+" : ""}${assessment.trimPpb} ppb`;
    case "too-short":
      return " (under 7 days since it was set: time only, no trim)";
    case "out-of-range":
      return " (a trim that large is beyond what a token takes: time only; check the token)";
    default:
      return "";
  }
}
