import type { VerificationPolicy } from "./policy.js";
import type { TokenState } from "./state.js";

const DAY_MS = 86_400_000;

/**
 * The next-code challenge window of a token at `now`: `challengeWindow` steps, one more for every
 * `challengeWindowGrowthDays` since the token was last accepted, up to `challengeWindowMax`. A token left
 * in a drawer drifts (±20 ppm is ±1 step every 35 days at 60 s steps), so the longer it was unused the
 * further its code may be from the learned offset; the next code still has to follow before the offset
 * moves. A token whose last acceptance is unknown gets the base window. The direct window never grows.
 */
export function challengeWindowAt(token: Pick<TokenState, "lastAcceptedAt">, now: number, policy: VerificationPolicy): number {
  const base = policy.challengeWindow;
  if (token.lastAcceptedAt === undefined || token.lastAcceptedAt === null) return base;
  const idleDays = Math.max(0, now - token.lastAcceptedAt) / DAY_MS;
  const grown = base + Math.floor(idleDays / policy.challengeWindowGrowthDays);
  return Math.min(Math.max(base, policy.challengeWindowMax), grown);
}
