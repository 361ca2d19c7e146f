import { generateSync } from "otplib";
import { NodeCryptoPlugin } from "@otplib/plugin-crypto-node";
import type { HashAlgorithm } from "../../common/profile.js";

export interface TotpParameters {
  algorithm: HashAlgorithm;
  digits: number;
  period: number;
  t0: number;
}

const crypto = new NodeCryptoPlugin();
const otplibAlgorithm = { SHA1: "sha1", SHA256: "sha256", SHA512: "sha512" } as const;

/** RFC 6238 time step of a Unix time in milliseconds. */
export function stepAt(unixMillis: number, parameters: Pick<TotpParameters, "period" | "t0">): number {
  return Math.floor((Math.floor(unixMillis / 1000) - parameters.t0) / parameters.period);
}

/** The code a token shows during `step` (RFC 4226 HOTP with the step as counter). */
export function codeAt(secret: Uint8Array, step: number, parameters: TotpParameters): string {
  return generateSync({
    strategy: "hotp",
    secret,
    counter: step,
    algorithm: otplibAlgorithm[parameters.algorithm],
    digits: parameters.digits as 6 | 7 | 8,
    crypto,
  });
}
