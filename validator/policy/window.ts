import { challengeWindowAt } from "./challenge-window.js";
import type { VerificationPolicy } from "./policy.js";
import type { TokenState } from "./state.js";
import { codeValueAt, stepAt, typedCodeValue, type TotpParameters } from "./totp.js";

export interface WindowMatch {
  token: TokenState;
  step: number;
  /** True within ±directWindow of the learned offset; otherwise only a next-code challenge may follow. */
  direct: boolean;
}

/** Steps around the learned offset, nearest first: 0, -1, +1, -2, +2, … */
function offsetsNearestFirst(radius: number): number[] {
  const offsets = [0];
  for (let distance = 1; distance <= radius; distance++) offsets.push(-distance, distance);
  return offsets;
}

/**
 * Finds the step whose code equals `code` among the user's tokens, within each token's challenge window
 * (challenge-window.ts) around its learned offset and after its last accepted step. The search always
 * computes the largest window the policy allows, matching only inside the token's own, so the work does
 * not tell how long a token was unused (nor an unknown user's decoys from a drawer token). `exhaustive`
 * computes it all even after a direct match, so a reject costs the same work whatever made it a reject.
 */
export function findCode(
  tokens: TokenState[],
  code: string,
  now: number,
  policy: VerificationPolicy,
  exhaustive: boolean,
): WindowMatch | null {
  let found: WindowMatch | null = null;
  const searched = offsetsNearestFirst(Math.max(policy.challengeWindow, policy.challengeWindowMax));
  for (const token of tokens) {
    const center = expectedStep(token, now);
    const window = challengeWindowAt(token, now, policy);
    const typed = typedCodeValue(code, token.parameters.digits);
    for (const offset of searched) {
      const step = center + offset;
      const matches = codeValueAt(token.secret, step, token.parameters) === typed && Math.abs(offset) <= window;
      const fresh = !token.decoy && (token.lastStep === null || step > token.lastStep);
      const direct = Math.abs(offset) <= policy.directWindow;
      // A direct match wins over an earlier challenge-window match of another token.
      if (matches && fresh && (found === null || (direct && !found.direct))) {
        found = { token, step, direct };
        if (direct && !exhaustive) return found;
      }
    }
  }
  return found;
}

/** The step a token shows at `now` under its learned offset. */
export function expectedStep(token: { parameters: Pick<TotpParameters, "period" | "t0">; offset: number }, now: number): number {
  return stepAt(now, token.parameters) + token.offset;
}

/** The offset that makes `step` the expected step at `now`. */
export function offsetFor(token: TokenState, step: number, now: number): number {
  return step - stepAt(now, token.parameters);
}
