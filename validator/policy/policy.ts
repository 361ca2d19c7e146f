import type { HashAlgorithm, TokenProfile } from "../../common/profile.js";

export interface PinRules {
  minLength: number;
  maxLength: number;
}

/** Every number of the verification policy in one place; DESIGN.md "Verification policy" explains them. */
export interface VerificationPolicy {
  /** Defaults for tokens registered without explicit parameters, from the token profile. */
  token: { algorithm: HashAlgorithm; digits: number; period: number; t0: number };
  /** Steps either side of the learned offset that are accepted directly. */
  directWindow: number;
  /** Steps either side of the learned offset that lead to a next-code challenge, for a token in daily use… */
  challengeWindow: number;
  /** …one step more per this many days since the token was last accepted (a drawer token drifts)… */
  challengeWindowGrowthDays: number;
  /** …up to this many steps. Every reject computes this whole window, so its cost is the same for every user. */
  challengeWindowMax: number;
  /** From this many consecutive failures on, each further attempt must wait (exponential back-off). */
  throttleAfter: number;
  throttleBaseSeconds: number;
  throttleMaxSeconds: number;
  /** At this many consecutive failures the user is locked until a help-desk unlock… */
  lockAfter: number;
  /** …or, when set, until this many minutes after the last failure (null: only the help desk unlocks). */
  autoUnlockMinutes: number | null;
  /**
   * Active tokens a user may hold; every passcode is checked against this many (padded with decoys), so
   * the work, and the time, is the same whatever the user holds.
   */
  tokensPerUser: number;
  newPinChallengeSeconds: number;
  nextCodeChallengeSeconds: number;
  pin: PinRules;
  emergencyPasswordLength: number;
  /** IANA zone whose 23:59 ends an emergency password's day. */
  timeZone: string;
}

export function defaultPolicy(profile: TokenProfile, timeZone = "Europe/Paris", autoUnlockMinutes: number | null = null): VerificationPolicy {
  return {
    token: { algorithm: profile.algorithm, digits: profile.digits, period: profile.period, t0: profile.t0 },
    directWindow: 1,
    challengeWindow: 10,
    challengeWindowGrowthDays: 7,
    challengeWindowMax: 30,
    throttleAfter: 3,
    throttleBaseSeconds: 5,
    throttleMaxSeconds: 300,
    lockAfter: 10,
    autoUnlockMinutes,
    tokensPerUser: 2,
    newPinChallengeSeconds: 300,
    nextCodeChallengeSeconds: 180,
    pin: { minLength: 6, maxLength: 12 },
    emergencyPasswordLength: 10,
    timeZone,
  };
}
