// Inputs every provisioning command checks before touching a token: the user id, the algorithm,
// and a validator that is reachable with a help-desk key, whose clock becomes the reference.
import { CommandFailure, exitCodes } from "../common/failure.js";
import { userId } from "../common/identifiers.js";
import { say } from "./cli-support.js";
import { validatorReferenceClock, type ReferenceClock } from "./reference-clock.js";
import type { TokenAlgorithm } from "./token-profile.js";
import { validatorClient, type AdminApi, type ValidatorClient } from "./validator-client.js";

export function checkUser(user: string): string {
  const parsed = userId.safeParse(user);
  if (!parsed.success) throw new CommandFailure(`--user "${user}" is not an academic identifier (${parsed.error.issues[0]?.message})`, exitCodes.usage);
  return parsed.data;
}

export function checkAlgorithm(value: string | undefined, fallback: string): TokenAlgorithm {
  const algorithm = (value ?? fallback).toUpperCase().replace("-", "");
  if (algorithm !== "SHA1" && algorithm !== "SHA256") throw new CommandFailure(`--algorithm must be SHA256 or SHA1, got "${value}"`, exitCodes.usage);
  return algorithm;
}

/** Validator client + reference clock, both checked before any token is touched. */
export async function preparedValidator(api: AdminApi): Promise<{ validator: ValidatorClient; clock: ReferenceClock }> {
  const validator = validatorClient(api);
  await validator.checkAccess();
  const clock = await validatorReferenceClock(validator);
  if (clock.source === "host") say("note: the validator does not report its time; tokens are set from this computer's clock");
  else if (Math.abs(clock.hostSkewMillis) > 2000) say(`note: this computer's clock is ${(clock.hostSkewMillis / 1000).toFixed(1)} s off the validator's; tokens are set from the validator's`);
  return { validator, clock };
}
