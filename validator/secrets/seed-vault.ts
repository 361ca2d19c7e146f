import { createHmac } from "node:crypto";
import type { MasterKey } from "./master-key.js";
import { SealedBox, type SealedValue } from "./sealed-box.js";

export type SealedSeed = SealedValue;

/** The key-derivation purpose of token seeds (also named by the re-seal list, storage/sealed-columns.ts). */
export const SEED_PURPOSE = "seed-encryption";

/** A RADIUS client's shared secret is sealed like a seed, bound to the client's name. */
export const radiusSecretAssociatedData = (name: string) => `radius-client:${name}`;

/**
 * A token's seed is bound to its serial, which never holds a ":" (common/identifiers.ts): a row naming a
 * token `radius-client:<name>` and holding that client's sealed secret (a database or backup edited by
 * someone without the master key) must not open as a seed whose codes every NAS administrator could
 * compute.
 */
function tokenAssociatedData(serial: string): string {
  if (serial.includes(":")) throw new Error(`"${serial}" is not a token serial: no seed is sealed or opened under it`);
  return serial;
}

/**
 * A keyed fingerprint of a seed (HMAC-SHA-256 under a key derived from the master key), stored in a
 * unique column so one seed is never registered under two serials. Keyed like the PIN verifiers: a
 * database dump without the master key cannot be used to test a guessed or leaked seed.
 */
export function seedFingerprint(master: MasterKey, seed: Uint8Array): string {
  return createHmac("sha256", master.derive("seed-fingerprint")).update(seed).digest("base64");
}

/**
 * Token seeds at rest: AES-256-GCM under a key derived from the master key, bound to the token serial
 * (associated data) so a sealed seed copied onto another token row does not open. During a master-key
 * rotation it also opens seeds sealed under the previous key.
 */
export class SeedVault {
  private readonly box: SealedBox;
  private readonly fingerprintKeys: Buffer[];

  constructor(master: MasterKey, previous: MasterKey[] = []) {
    this.box = new SealedBox(SEED_PURPOSE, master, previous);
    this.fingerprintKeys = [master, ...previous].map((key) => key.derive("seed-fingerprint"));
  }

  /** The id of the master key new seeds (and verifiers) are sealed under. */
  get currentKeyId(): string {
    return this.box.current.id;
  }

  /** The fingerprint under the current key, the one stored for a new token. */
  fingerprint(seed: Uint8Array): string {
    return this.fingerprints(seed)[0]!;
  }

  /**
   * The fingerprint under every loaded key: while a rotation is under way a stored fingerprint may still
   * be under the previous key, and a duplicate seed must be found either way.
   */
  fingerprints(seed: Uint8Array): string[] {
    return this.fingerprintKeys.map((key) => createHmac("sha256", key).update(seed).digest("base64"));
  }

  seal(serial: string, seed: Uint8Array): SealedSeed {
    return this.box.seal(tokenAssociatedData(serial), seed);
  }

  open(serial: string, sealed: SealedSeed): Buffer {
    return this.box.open(tokenAssociatedData(serial), sealed, `token ${serial}`);
  }

  /** A RADIUS client's shared secret: sealed under the same key, bound to `radius-client:<name>`. */
  sealRadiusSecret(name: string, secret: Uint8Array): SealedSeed {
    return this.box.seal(radiusSecretAssociatedData(name), secret);
  }

  openRadiusSecret(name: string, sealed: SealedSeed): Buffer {
    return this.box.open(radiusSecretAssociatedData(name), sealed, `RADIUS client ${name}`);
  }
}
