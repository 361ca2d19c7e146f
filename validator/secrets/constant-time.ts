import { timingSafeEqual } from "node:crypto";

/** String equality whose time does not depend on where the strings differ. */
export function constantTimeEqual(expected: string, candidate: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(candidate);
  return a.length === b.length && timingSafeEqual(a, b);
}
