import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import type { MasterKey } from "./master-key.js";

export interface SealedSeed {
  ciphertext: string;
  keyId: string;
}

/**
 * Token seeds at rest: AES-256-GCM under a key derived from the master key, bound to the token serial
 * (associated data) so a sealed seed copied onto another token row does not open.
 */
export class SeedVault {
  private readonly key: Buffer;
  private readonly fingerprintKey: Buffer;

  constructor(private readonly master: MasterKey) {
    this.key = master.derive("seed-encryption");
    this.fingerprintKey = master.derive("seed-fingerprint");
  }

  /**
   * A keyed fingerprint of a seed (HMAC-SHA-256 under a key derived from the master key), stored in a
   * unique column so one seed is never registered under two serials. Keyed like the PIN verifiers: a
   * database dump without the master key cannot be used to test a guessed or leaked seed.
   */
  fingerprint(seed: Uint8Array): string {
    return createHmac("sha256", this.fingerprintKey).update(seed).digest("base64");
  }

  seal(serial: string, seed: Uint8Array): SealedSeed {
    const nonce = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, nonce);
    cipher.setAAD(Buffer.from(serial));
    const body = Buffer.concat([cipher.update(seed), cipher.final()]);
    return { ciphertext: Buffer.concat([nonce, cipher.getAuthTag(), body]).toString("base64"), keyId: this.master.id };
  }

  open(serial: string, sealed: SealedSeed): Buffer {
    if (sealed.keyId !== this.master.id) {
      throw new Error(`token ${serial} is sealed with master key ${sealed.keyId}, but key ${this.master.id} is loaded`);
    }
    const bytes = Buffer.from(sealed.ciphertext, "base64");
    const decipher = createDecipheriv("aes-256-gcm", this.key, bytes.subarray(0, 12));
    decipher.setAAD(Buffer.from(serial));
    decipher.setAuthTag(bytes.subarray(12, 28));
    return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]);
  }
}
