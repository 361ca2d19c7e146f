import { constantTimeEqual } from "../secrets/constant-time.js";
import type { VerificationPolicy } from "./policy.js";
import type { TokenState } from "./state.js";
import { codeAt, stepAt } from "./totp.js";

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
 * Finds the step whose code equals `code` among the user's tokens, within ±challengeWindow of each
 * token's learned offset and after its last accepted step. `exhaustive` computes the whole window even
 * after a match, so a reject costs the same work whatever made it a reject.
 */
export function findCode(
  tokens: TokenState[],
  code: string,
  now: number,
  policy: VerificationPolicy,
  exhaustive: boolean,
): WindowMatch | null {
  let found: WindowMatch | null = null;
  for (const token of tokens) {
    const center = stepAt(now, token.parameters) + token.offset;
    for (const offset of offsetsNearestFirst(policy.challengeWindow)) {
      const step = center + offset;
      const matches = constantTimeEqual(codeAt(token.secret, step, token.parameters), code);
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

/** The offset that makes `step` the expected step at `now`. */
export function offsetFor(token: TokenState, step: number, now: number): number {
  return step - stepAt(now, token.parameters);
}
