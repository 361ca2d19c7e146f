// Clock re-synchronisation: measure the token's offset from the reference clock (the validator's),
// then correct it with an authenticated set-time. The token accepts only forward corrections up to
// the profile's bound, MAC'd with its seed; the validator holds the seed, so it signs the new time
// (POST /v1/tokens/{serial}/set-time-mac) and the seed never leaves it. Once the token answered OK,
// the provisioner tells the validator (POST …/clock-confirmed), which only then resets the offset it
// had learned for the token: a signed time the token never applied changes nothing.
import type { TokenClient } from "../common/token-service/token-client.js";
import { ClockState, resultName, TokenResult } from "../common/token-service/token-protocol.js";
import { CommandFailure, exitCodes } from "../common/failure.js";
import type { ReferenceClock } from "./reference-clock.js";
import type { ProvisionerProfile } from "./token-profile.js";
import type { ValidatorClient } from "./validator-client.js";
import { MAX_CLOCK_OFFSET_SECONDS, measureClockOffset } from "./verify.js";

export interface ResyncOutcome {
  serial: string;
  /** device time minus reference time before the correction (s) */
  measuredOffsetSeconds: number;
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
  if (!(await validator.findToken(serial))) throw new CommandFailure(`token ${serial} is not registered with the validator`, exitCodes.refused);

  const measured = (await measureClockOffset(token, clock)).offsetSeconds;
  say(`token ${serial}: clock ${measured >= 0 ? "+" : ""}${measured} s from the ${clock.source} clock`);
  const base = { serial, measuredOffsetSeconds: measured, clockSource: clock.source };
  if (Math.abs(measured) <= 1) return { ...base, action: "in-sync", offsetAfterSeconds: measured };
  if (measured > 0) {
    if (measured <= MAX_CLOCK_OFFSET_SECONDS) return { ...base, action: "in-sync", offsetAfterSeconds: measured };
    throw new CommandFailure(
      `token ${serial} is ${measured} s fast; the token accepts only forward corrections, so a fast clock needs re-provisioning (jeton wipe, then jeton provision)`,
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

  const counter = (await token.setTimeCounter()) + 1;
  const time = Math.round(clock.now() / 1000);
  const path = `/v1/tokens/${encodeURIComponent(serial)}`;
  const signed = (await validator.call("POST", `${path}/set-time-mac`, { time, counter })) as { mac: string };
  const result = await token.setTime({ time, counter, mac: Buffer.from(signed.mac, "hex") });
  if (result !== TokenResult.Ok) {
    throw new CommandFailure(`token ${serial} refused the authenticated set-time: ${resultName(result)}`, exitCodes.refused, base);
  }
  try {
    await validator.call("POST", `${path}/clock-confirmed`, { time, counter, mac: signed.mac });
  } catch (error) {
    throw new CommandFailure(
      `token ${serial} applied the new time (counter ${counter}), but the validator was not told (${(error as Error).message}): ` +
        "it keeps the offset it had learned, so the user's next login may answer a next-code challenge",
      (error as CommandFailure).exitCode ?? exitCodes.refused,
      base,
    );
  }
  const after = (await measureClockOffset(token, clock)).offsetSeconds;
  say(`authenticated set-time accepted (counter ${counter}); clock now ${after >= 0 ? "+" : ""}${after} s`);
  return { ...base, action: "corrected", counter, offsetAfterSeconds: after };
}
