import type { VerificationPolicy } from "./policy.js";

export interface FailureRecord {
  /** Consecutive failures since the last success that proved the PIN, or the last unlock. */
  failures: number;
  lastFailureAt: number | null;
}

export type Gate = { state: "open" } | { state: "throttled"; until: number } | { state: "locked" };

/**
 * Whether a lock has lifted by itself: only when automatic unlock is configured and that long has passed
 * since the last failure. By default (null) a lock lasts until a help-desk unlock.
 */
export function autoUnlocked(record: FailureRecord, now: number, policy: VerificationPolicy): boolean {
  return (
    policy.autoUnlockMinutes !== null &&
    record.failures >= policy.lockAfter &&
    record.lastFailureAt !== null &&
    now >= record.lastFailureAt + policy.autoUnlockMinutes * 60_000
  );
}

/** The record as it stands at `now`: an automatically lifted lock counts as a fresh start. */
export function standing(record: FailureRecord, now: number, policy: VerificationPolicy): FailureRecord {
  return autoUnlocked(record, now, policy) ? { failures: 0, lastFailureAt: null } : record;
}

/** Whether an attempt may be evaluated at `now` (Unix ms). */
export function gate(stored: FailureRecord, now: number, policy: VerificationPolicy): Gate {
  const record = standing(stored, now, policy);
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
