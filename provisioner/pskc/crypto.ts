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
  const expected = valueMac(algorithm, macKey, ivAndCiphertext);
  return expected.length === mac.length && timingSafeEqual(expected, mac);
}

export function derivePasswordKey(password: Buffer, salt: Buffer, iterations: number, keyLength: number, prf: "sha1" | "sha256"): Buffer {
  return pbkdf2Sync(password, salt, iterations, keyLength, prf);
}
