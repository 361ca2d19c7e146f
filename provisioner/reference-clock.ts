// The time tokens are set to. Codes are checked against the validator's clock, so that clock is the
// reference: a help-desk workstation with a wrong clock must not write a wrong time into hundreds of
// tokens. The validator's /health reports its time; half the round trip is added for the transit.
// A validator that does not report its time falls back to this computer's clock (and says so).
import type { ValidatorClient } from "./validator-client.js";

export interface ReferenceClock {
  /** UTC Unix milliseconds */
  now(): number;
  readonly source: "validator" | "host";
  /** this computer's clock minus the validator's, in ms (0 when the source is the host) */
  readonly hostSkewMillis: number;
}

export function hostClock(): ReferenceClock {
  return { now: () => Date.now(), source: "host", hostSkewMillis: 0 };
}

export async function validatorReferenceClock(validator: ValidatorClient): Promise<ReferenceClock> {
  const measured = await validator.serverTime();
  if (!measured) return hostClock();
  const skew = Date.now() - measured.unixMillis;
  return { now: () => Date.now() - skew, source: "validator", hostSkewMillis: skew };
}

export function unixSeconds(clock: ReferenceClock): number {
  return Math.floor(clock.now() / 1000);
}
