// otpauth:// URIs (the Key Uri Format of authenticator apps). The only way the provisioner ever shows
// a seed, and only with an explicit --show-otpauth flag.
import type { TokenAlgorithm } from "./token-profile.js";

const BASE32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 base32 without padding (as otpauth URIs use it). */
export function base32(bytes: Uint8Array): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32_ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

export function otpauthUri(options: {
  serial: string;
  user?: string;
  seed: Uint8Array;
  algorithm: TokenAlgorithm;
  digits: number;
  period: number;
  issuer?: string;
}): string {
  const issuer = options.issuer ?? "Jeton";
  const label = encodeURIComponent(`${issuer}:${options.user ?? options.serial}`);
  const query = new URLSearchParams({
    secret: base32(options.seed),
    issuer,
    algorithm: options.algorithm,
    digits: String(options.digits),
    period: String(options.period),
  });
  return `otpauth://totp/${label}?${query.toString()}`;
}
