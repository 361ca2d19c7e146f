// The drift rate of a token's clock, measured by the help desk at a resync (issue 12): the offset the
// token gathered since its clock was last set, over the time since. The token corrects it (SetTimeTrim);
// the validator never fits a rate from login history. Pure: the provisioner measures, the bench simulates.
import { MAX_TRIM_PPB } from "./token-service/token-protocol.js";

/** Below this time since the last set, a whole-second offset says too little about the rate: time only. */
export const MIN_TRIM_ELAPSED_SECONDS = 7 * 86_400;

export interface DriftMeasurement {
  /** device time minus reference time now (s): negative for a slow token */
  offsetSeconds: number;
  /** reference seconds since the token's clock was last set (null: unknown) */
  elapsedSeconds: number | null;
  /** the trim the token applies now (ppb; positive slows it) */
  currentTrimPpb: number;
}

export type DriftAssessment =
  | { rate: "measured"; ppm: number; trimPpb: number }
  | { rate: "too-short" | "unknown" | "out-of-range"; ppm: number | null; trimPpb: null };

/**
 * The token's residual rate in ppm (positive: fast) and the trim that cancels it: the trim it applies
 * already plus the residual, since the offset gathered under the current trim. Null trim when the rate
 * cannot be trusted (too short, unknown set time) or the total would exceed what a token takes.
 */
export function assessDrift(measurement: DriftMeasurement): DriftAssessment {
  const { offsetSeconds, elapsedSeconds, currentTrimPpb } = measurement;
  if (elapsedSeconds === null || !(elapsedSeconds > 0)) return { rate: "unknown", ppm: null, trimPpb: null };
  const ppm = (offsetSeconds / elapsedSeconds) * 1e6;
  if (elapsedSeconds < MIN_TRIM_ELAPSED_SECONDS) return { rate: "too-short", ppm, trimPpb: null };
  const trimPpb = Math.round(currentTrimPpb + ppm * 1000);
  if (Math.abs(trimPpb) > MAX_TRIM_PPB) return { rate: "out-of-range", ppm, trimPpb: null };
  return { rate: "measured", ppm, trimPpb };
}

/** "token 41 s slow over 93 days: −5.1 ppm" */
export function describeDrift(offsetSeconds: number, elapsedSeconds: number, ppm: number): string {
  const direction = offsetSeconds < 0 ? "slow" : "fast";
  const days = elapsedSeconds / 86_400;
  const over = days >= 1 ? `${Math.round(days)} day${Math.round(days) === 1 ? "" : "s"}` : `${Math.round(elapsedSeconds / 3600)} h`;
  const sign = ppm < 0 ? "\u2212" : "+";
  return `${Math.abs(offsetSeconds)} s ${direction} over ${over}: ${sign}${Math.abs(ppm).toFixed(1)} ppm`;
}
