// Writes RFC 6030 PSKC files from freshly generated seeds (the only time the provisioner holds
// them: the validator never returns a seed). Encrypted by default — AES-128-CBC with a pre-shared
// key or a PBKDF2-derived key, each secret MAC'd (HMAC-SHA1 over IV || ciphertext) with a random
// MAC key carried encrypted in the file. The file is rewritten whole (temporary file + rename, mode
// 0600) after each token, so an interrupted batch leaves a valid file behind.
import { randomBytes } from "node:crypto";
import { renameSync, writeFileSync } from "node:fs";
import {
  aesCbcEncrypt,
  derivePasswordKey,
  EXPORT_KEY_BYTES,
  EXPORT_PBKDF2_ITERATIONS,
  HMAC_SHA1,
  PBKDF2,
  valueMac,
} from "./crypto.js";
import type { PskcProtection } from "./protection.js";

export const PSKC_NS = "urn:ietf:params:xml:ns:keyprov:pskc";
/** The TOTP algorithm URI as registered (RFC 6030 §10.1 points to the IANA registry). */
export const TOTP_URI = "urn:ietf:params:xml:ns:keyprov:pskc:totp";

export interface PskcEntry {
  serial: string;
  user?: string | null;
  seed: Uint8Array;
  algorithm: "SHA1" | "SHA256" | "SHA512";
  digits: number;
  period: number;
  t0?: number;
}

const escapeXml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");

/**
 * `manufacturer` must be "oath.<prefix>" or "iana.<enterprise number>" (RFC 6030 §4.3.1); without
 * one the element is left out rather than filled with a non-compliant value.
 */
export function buildPskc(entries: PskcEntry[], protection: PskcProtection, options: { manufacturer?: string; issuer?: string } = {}): string {
  const manufacturer = options.manufacturer ? `
      <Manufacturer>${escapeXml(options.manufacturer)}</Manufacturer>` : "";
  const issuer = escapeXml(options.issuer ?? "Jeton");
  let header = "";
  let secret: (seed: Uint8Array) => string;
  if (protection.kind === "plaintext") {
    secret = (seed) => `<PlainValue>${Buffer.from(seed).toString("base64")}</PlainValue>`;
  } else {
    let key: Buffer;
    if (protection.kind === "password") {
      const salt = randomBytes(16);
      key = derivePasswordKey(protection.password, salt, EXPORT_PBKDF2_ITERATIONS, EXPORT_KEY_BYTES, "sha1");
      header += `
  <EncryptionKey>
    <xenc11:DerivedKey>
      <xenc11:KeyDerivationMethod Algorithm="${PBKDF2}">
        <pkcs5:PBKDF2-params>
          <Salt><Specified>${salt.toString("base64")}</Specified></Salt>
          <IterationCount>${EXPORT_PBKDF2_ITERATIONS}</IterationCount>
          <KeyLength>${EXPORT_KEY_BYTES}</KeyLength>
        </pkcs5:PBKDF2-params>
      </xenc11:KeyDerivationMethod>
      <xenc11:MasterKeyName>Jeton export password</xenc11:MasterKeyName>
    </xenc11:DerivedKey>
  </EncryptionKey>`;
    } else {
      key = protection.key;
      header += `
  <EncryptionKey>
    <ds:KeyName>${escapeXml(protection.keyName)}</ds:KeyName>
  </EncryptionKey>`;
    }
    const method = `http://www.w3.org/2001/04/xmlenc#aes${key.length * 8}-cbc`;
    const macKey = randomBytes(20);
    header += `
  <MACMethod Algorithm="${HMAC_SHA1}">
    <MACKey>
      <xenc:EncryptionMethod Algorithm="${method}"/>
      <xenc:CipherData><xenc:CipherValue>${aesCbcEncrypt(key, macKey).toString("base64")}</xenc:CipherValue></xenc:CipherData>
    </MACKey>
  </MACMethod>`;
    secret = (seed) => {
      const encrypted = aesCbcEncrypt(key, seed);
      return `<EncryptedValue>
              <xenc:EncryptionMethod Algorithm="${method}"/>
              <xenc:CipherData><xenc:CipherValue>${encrypted.toString("base64")}</xenc:CipherValue></xenc:CipherData>
            </EncryptedValue>
            <ValueMAC>${valueMac("sha1", macKey, encrypted).toString("base64")}</ValueMAC>`;
    };
  }
  const packages = entries.map(
    (entry) => `
  <KeyPackage>
    <DeviceInfo>${manufacturer}
      <SerialNo>${escapeXml(entry.serial)}</SerialNo>
    </DeviceInfo>
    <Key Id="${escapeXml(entry.serial)}" Algorithm="${TOTP_URI}">
      <Issuer>${issuer}</Issuer>
      <AlgorithmParameters>
        <Suite>HMAC-${entry.algorithm}</Suite>
        <ResponseFormat Length="${entry.digits}" Encoding="DECIMAL"/>
      </AlgorithmParameters>
      <Data>
        <Secret>
          ${secret(entry.seed)}
        </Secret>
        <Time><PlainValue>${entry.t0 ?? 0}</PlainValue></Time>
        <TimeInterval><PlainValue>${entry.period}</PlainValue></TimeInterval>
      </Data>${entry.user ? `
      <UserId>${escapeXml(entry.user)}</UserId>` : ""}
    </Key>
  </KeyPackage>`,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>
<KeyContainer Version="1.0" xmlns="${PSKC_NS}" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" xmlns:xenc11="http://www.w3.org/2009/xmlenc11#" xmlns:pkcs5="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#">${header}${packages.join("")}
</KeyContainer>
`;
}

/** Writes the file whole and atomically, readable by its owner only. */
export function writePskcFile(path: string, xml: string): void {
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, xml, { mode: 0o600 });
  renameSync(temporary, path);
}
