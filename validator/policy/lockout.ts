import type { VerificationPolicy } from "./policy.js";

export interface FailureRecord {
  /** Consecutive failures since the last success or help-desk unlock. */
  failures: number;
  lastFailureAt: number | null;
}

export type Gate = { state: "open" } | { state: "throttled"; until: number } | { state: "locked" };

/** Whether an attempt may be evaluated at `now` (Unix ms). */
export function gate(record: FailureRecord, now: number, policy: VerificationPolicy): Gate {
  if (record.failures >= policy.lockAfter) return { state: "locked" };
  if (record.failures < policy.throttleAfter || record.lastFailureAt === null) return { state: "open" };
  const until = record.lastFailureAt + throttleDelaySeconds(record.failures, policy) * 1000;
  return now < until ? { state: "throttled", until } : { state: "open" };
}

/** 5 s after the 3rd failure, then doubling up to the cap (defaults). */
export function throttleDelaySeconds(failures: number, policy: VerificationPolicy): number {
  const doublings = failures - policy.throttleAfter;
  return Math.min(policy.throttleBaseSeconds * 2 ** doublings, policy.throttleMaxSeconds);
}
