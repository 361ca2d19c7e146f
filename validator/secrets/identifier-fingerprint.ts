import { createHmac } from "node:crypto";
import type { MasterKey } from "./master-key.js";

/**
 * What the audit log keeps of an identifier that names nobody. People type their PIN, or PIN + code,
 * into the identifier field, and support reads the audit log: the text itself must not be kept. A keyed
 * fingerprint (HMAC-SHA-256 under a key derived from the master key, first 16 bytes) still shows that
 * the same text was tried again, and a dump of the database without the master key cannot test guesses
 * against it. After a master-key rotation the same text gets another fingerprint.
 */
export function unknownIdentifierFingerprint(master: MasterKey): (identifier: string) => string {
  const key = master.derive("unknown-identifier");
  return (identifier) => createHmac("sha256", key).update(identifier).digest().subarray(0, 16).toString("base64url");
}
