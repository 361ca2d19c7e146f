/** How long console sessions and step-ups last; DESIGN.md "Support console". */
export interface ConsoleSessionLimits {
  /** A session unused this long ends (a warning with an "extend" button comes first). */
  idleSeconds: number;
  /** A session ends this long after sign-in, whatever the activity. */
  maxSeconds: number;
  /** Sensitive actions need a passcode entered this recently. */
  stepUpSeconds: number;
  /** The page warns this long before the idle end. */
  warningSeconds: number;
}

export const defaultConsoleSessionLimits: ConsoleSessionLimits = {
  idleSeconds: 15 * 60,
  maxSeconds: 10 * 60 * 60,
  stepUpSeconds: 10 * 60,
  warningSeconds: 2 * 60,
};

export interface SessionTimes {
  createdAt: number;
  lastSeenAt: number;
  steppedUpAt: number | null;
}

export type SessionEnd = "idle" | "max-age";

/** Why the session is over at `now`, or null while it lasts. */
export function sessionEnd(session: SessionTimes, now: number, limits: ConsoleSessionLimits): SessionEnd | null {
  if (now >= session.createdAt + limits.maxSeconds * 1000) return "max-age";
  if (now >= session.lastSeenAt + limits.idleSeconds * 1000) return "idle";
  return null;
}

/** Seconds until the session ends if nothing happens (idle or maximum, whichever first). */
export function secondsLeft(session: SessionTimes, now: number, limits: ConsoleSessionLimits): number {
  const end = Math.min(session.lastSeenAt + limits.idleSeconds * 1000, session.createdAt + limits.maxSeconds * 1000);
  return Math.max(0, Math.floor((end - now) / 1000));
}

export function steppedUp(session: SessionTimes, now: number, limits: ConsoleSessionLimits): boolean {
  return session.steppedUpAt !== null && now < session.steppedUpAt + limits.stepUpSeconds * 1000;
}
