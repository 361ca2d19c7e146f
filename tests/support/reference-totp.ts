import { createHmac } from "node:crypto";

/**
 * An independent RFC 4226/6238 implementation for tests, so the validator's own TOTP code is never
 * used to produce the codes it is checked against.
 */
export function referenceCode(secret: Uint8Array, step: number, algorithm: "sha1" | "sha256" | "sha512" = "sha256", digits = 6): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac(algorithm, secret).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, "0");
}

export function referenceStep(unixMillis: number, period = 60): number {
  return Math.floor(unixMillis / 1000 / period);
}
