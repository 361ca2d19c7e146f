// The cryptography of RFC 6030 (PSKC) §6: secrets encrypted with AES-CBC (IV prepended to the
// ciphertext), a MAC over IV || ciphertext with a MAC key that travels encrypted in the file, and
// the encryption key either pre-shared (§6.1) or derived from a password with PBKDF2 (§6.2).
import { createCipheriv, createDecipheriv, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";

export const XMLENC = "http://www.w3.org/2001/04/xmlenc#";
export const AES_CBC = { [`${XMLENC}aes128-cbc`]: 16, [`${XMLENC}aes192-cbc`]: 24, [`${XMLENC}aes256-cbc`]: 32 } as Record<string, number>;
export const AES128_CBC = `${XMLENC}aes128-cbc`;
export const HMAC_SHA1 = "http://www.w3.org/2000/09/xmldsig#hmac-sha1";
export const HMAC_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256";
export const MAC_ALGORITHMS: Record<string, "sha1" | "sha256"> = { [HMAC_SHA1]: "sha1", [HMAC_SHA256]: "sha256" };
export const PBKDF2 = "http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2";
export const PBKDF2_PRFS: Record<string, "sha1" | "sha256"> = {
  "": "sha1",
  "http://www.w3.org/2000/09/xmldsig#hmac-sha1": "sha1",
  "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256": "sha256",
};

/** Export defaults: AES-128-CBC + HMAC-SHA1 as in RFC 6030's examples (what other PSKC tools read). */
export const EXPORT_KEY_BYTES = 16;
export const EXPORT_PBKDF2_ITERATIONS = 100_000;
/**
 * The most PBKDF2 iterations an imported file may ask for, checked before deriving. Ten times OWASP's
 * 2023 advice for PBKDF2-HMAC-SHA1 (1 300 000) and a hundred times our exports': a few seconds of one
 * core. The count is the file's to choose, so without a bound a hostile file (IterationCount 2^31)
 * holds the help desk's machine for hours.
 */
export const MAX_PBKDF2_ITERATIONS = 10_000_000;

/**
 * RFC 6030's ValueMAC covers only IV || ciphertext, not the key package it sits in, so encrypted values
 * and their MACs can be swapped between packages unnoticed. Jeton's exports also bind each value to its
 * package (key id, serial, parameters, user) with the same MAC key, in a Key <Extensions> element. The
 * MAC key of such a file starts with this label: it travels encrypted, so the binding cannot be stripped
 * without the MACs failing. Other tools see an ordinary HMAC key.
 */
export const KEY_BINDING_LABEL = Buffer.from("jeton-pskc-binding/1");
export const KEY_BINDING_DEFINITION = "urn:jeton:pskc:key-binding:1";

export interface BoundFields {
  keyId: string;
  serial: string;
  algorithm: string;
  digits: number;
  period: number;
  t0: number;
  user: string | null;
}

export function keyBindingMac(algorithm: "sha1" | "sha256", macKey: Buffer, fields: BoundFields, ivAndCiphertext: Buffer): Buffer {
  const { keyId, serial, algorithm: suite, digits, period, t0, user } = fields;
  return createHmac(algorithm, macKey)
    .update(JSON.stringify([KEY_BINDING_DEFINITION, keyId, serial, suite, digits, period, t0, user ?? ""]))
    .update(Buffer.from([0]))
    .update(ivAndCiphertext)
    .digest();
}

export function aesCbcEncrypt(key: Buffer, plaintext: Uint8Array): Buffer {
  const iv = randomBytes(16);
  const cipher = createCipheriv(`aes-${key.length * 8}-cbc`, key, iv);
  return Buffer.concat([iv, cipher.update(plaintext), cipher.final()]);
}

export function aesCbcDecrypt(key: Buffer, ivAndCiphertext: Buffer): Buffer {
  if (ivAndCiphertext.length < 32 || ivAndCiphertext.length % 16 !== 0) throw new Error("encrypted value has an impossible length");
  const decipher = createDecipheriv(`aes-${key.length * 8}-cbc`, key, ivAndCiphertext.subarray(0, 16));
  return Buffer.concat([decipher.update(ivAndCiphertext.subarray(16)), decipher.final()]);
}

export function valueMac(algorithm: "sha1" | "sha256", macKey: Buffer, ivAndCiphertext: Buffer): Buffer {
  return createHmac(algorithm, macKey).update(ivAndCiphertext).digest();
}

export function macMatches(algorithm: "sha1" | "sha256", macKey: Buffer, ivAndCiphertext: Buffer, mac: Buffer): boolean {
  return sameBytes(valueMac(algorithm, macKey, ivAndCiphertext), mac);
}

export function sameBytes(expected: Buffer, candidate: Buffer): boolean {
  return expected.length === candidate.length && timingSafeEqual(expected, candidate);
}

export function derivePasswordKey(password: Buffer, salt: Buffer, iterations: number, keyLength: number, prf: "sha1" | "sha256"): Buffer {
  return pbkdf2Sync(password, salt, iterations, keyLength, prf);
}
