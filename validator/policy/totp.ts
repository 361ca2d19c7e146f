import { createHmac } from "node:crypto";
import type { HashAlgorithm } from "../../common/profile.js";

export interface TotpParameters {
  algorithm: HashAlgorithm;
  digits: number;
  period: number;
  t0: number;
}

const hmacAlgorithm = { SHA1: "sha1", SHA256: "sha256", SHA512: "sha512" } as const;
const powersOfTen = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000];

/** RFC 6238 time step of a Unix time in milliseconds. */
export function stepAt(unixMillis: number, parameters: Pick<TotpParameters, "period" | "t0">): number {
  return Math.floor((Math.floor(unixMillis / 1000) - parameters.t0) / parameters.period);
}

/**
 * The code a token shows during `step` (RFC 4226 HOTP with the step as counter). node:crypto's HMAC
 * directly: a reject computes the whole window for every token (hundreds of codes), and a library's HOTP
 * cost about three times as much per code.
 */
export function codeAt(secret: Uint8Array, step: number, parameters: TotpParameters): string {
  return String(codeValueAt(secret, step, parameters)).padStart(parameters.digits, "0");
}

/**
 * The same code as a number: the window search compares numbers (one machine comparison, so no timing
 * leak and none of the string and buffer work of comparing texts in constant time).
 */
export function codeValueAt(secret: Uint8Array, step: number, parameters: TotpParameters): number {
  const counter = Buffer.allocUnsafe(8);
  // Steps stay far below 2^53; split into two 32-bit halves for the big-endian counter.
  counter.writeUInt32BE(Math.floor(step / 0x1_0000_0000), 0);
  counter.writeUInt32BE(step >>> 0, 4);
  const digest = createHmac(hmacAlgorithm[parameters.algorithm], secret).update(counter).digest();
  // RFC 4226 §5.3 dynamic truncation.
  const offset = digest[digest.length - 1]! & 0x0f;
  return (digest.readUInt32BE(offset) & 0x7fff_ffff) % powersOfTen[parameters.digits]!;
}

/** The value of a typed code of `digits` digits, or -1 (which no code equals) for anything else. */
export function typedCodeValue(typed: string, digits: number): number {
  return typed.length === digits && /^[0-9]+$/.test(typed) ? Number(typed) : -1;
}
