import { hash } from "node:crypto";

/**
 * User-Password hiding (RFC 2865 §5.2): the password, padded with NULs to a multiple of 16 bytes, is
 * XORed block by block with MD5(secret + previous block), the first block chained on the request
 * authenticator.
 */
function xorChain(input: Buffer, secret: Buffer, requestAuthenticator: Buffer, hiding: boolean): Buffer {
  const output = Buffer.alloc(input.length);
  // secret + previous block, hashed in one call (a streaming hash costs twice as much for 16 bytes)
  const hashed = Buffer.alloc(secret.length + 16);
  secret.copy(hashed);
  let previous = requestAuthenticator;
  for (let offset = 0; offset < input.length; offset += 16) {
    previous.copy(hashed, secret.length);
    const mask = hash("md5", hashed, "buffer");
    for (let index = 0; index < 16; index++) output[offset + index] = input[offset + index]! ^ mask[index]!;
    previous = hiding ? output.subarray(offset, offset + 16) : input.subarray(offset, offset + 16);
  }
  return output;
}

/** Hides a password as a client does (used by tests and tools). At most 128 bytes. */
export function hidePassword(password: Buffer, secret: Buffer, requestAuthenticator: Buffer): Buffer {
  if (password.length > 128) throw new RangeError("a User-Password holds at most 128 bytes");
  const padded = Buffer.alloc(Math.max(16, Math.ceil(password.length / 16) * 16));
  password.copy(padded);
  return xorChain(padded, secret, requestAuthenticator, true);
}

/** The clear password, or null when the hidden value has an impossible length (16–128, multiple of 16). */
export function revealPassword(hidden: Buffer, secret: Buffer, requestAuthenticator: Buffer): Buffer | null {
  if (hidden.length < 16 || hidden.length > 128 || hidden.length % 16 !== 0) return null;
  const padded = xorChain(hidden, secret, requestAuthenticator, false);
  let end = padded.length;
  while (end > 0 && padded[end - 1] === 0) end--;
  return padded.subarray(0, end);
}
