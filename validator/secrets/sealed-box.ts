import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { MasterKey } from "./master-key.js";

/** A value sealed at rest, with the id of the master key it is sealed under. */
export interface SealedValue {
  ciphertext: string;
  keyId: string;
}

/**
 * AES-256-GCM under a key derived from the master key for one `purpose`, bound to associated data (say,
 * the row's primary key) so a sealed value copied onto another row does not open. Holds the current key
 * and, during a master-key rotation, the previous ones: it seals under the current key and opens under
 * whichever key the value names. Every sealed column uses this, so rotation re-seals them all alike.
 */
export class SealedBox {
  private readonly keys = new Map<string, Buffer>();

  constructor(
    readonly purpose: string,
    readonly current: MasterKey,
    previous: MasterKey[] = [],
  ) {
    for (const key of [current, ...previous]) this.keys.set(key.id, key.derive(purpose));
  }

  seal(associatedData: string, plaintext: Uint8Array): SealedValue {
    const nonce = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.keys.get(this.current.id)!, nonce);
    cipher.setAAD(Buffer.from(associatedData));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { ciphertext: Buffer.concat([nonce, cipher.getAuthTag(), body]).toString("base64"), keyId: this.current.id };
  }

  /** Throws `MissingMasterKey` when the value is sealed under a key this box does not hold. */
  open(associatedData: string, sealed: SealedValue, what: string): Buffer {
    const key = this.keys.get(sealed.keyId);
    if (!key) {
      const loaded = [...this.keys.keys()];
      throw new MissingMasterKey(`${what} is sealed with master key ${sealed.keyId}, but the loaded key${loaded.length > 1 ? "s are" : " is"} ${loaded.join(" and ")}`);
    }
    const bytes = Buffer.from(sealed.ciphertext, "base64");
    const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, 12));
    decipher.setAAD(Buffer.from(associatedData));
    decipher.setAuthTag(bytes.subarray(12, 28));
    return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]);
  }
}

export class MissingMasterKey extends Error {}
