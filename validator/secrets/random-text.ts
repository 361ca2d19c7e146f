import { randomInt } from "node:crypto";

/** `length` characters drawn uniformly from `alphabet` with the CSPRNG (no modulo bias). */
export function randomText(alphabet: string, length: number): string {
  return Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join("");
}
