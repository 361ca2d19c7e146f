// Writes RFC 6030 PSKC files from freshly generated seeds (the only time the provisioner holds
// them: the validator never returns a seed). Encrypted by default — AES-128-CBC with a pre-shared
// key or a PBKDF2-derived key, each secret MAC'd (HMAC-SHA1 over IV || ciphertext) with a random
// MAC key carried encrypted in the file, plus Jeton's binding of each value to its key package
// (crypto.ts). The file is rewritten whole (temporary file + rename) after each token, so an
// interrupted batch leaves a valid file behind.
import { randomBytes } from "node:crypto";
import { CommandFailure, exitCodes } from "../../common/failure.js";
import { linkSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import {
  aesCbcEncrypt,
  derivePasswordKey,
  EXPORT_KEY_BYTES,
  EXPORT_PBKDF2_ITERATIONS,
  HMAC_SHA1,
  KEY_BINDING_DEFINITION,
  KEY_BINDING_LABEL,
  keyBindingMac,
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
  /** the <Secret> content and the Key's <Extensions> of one entry */
  let protect: (entry: PskcEntry) => { secret: string; extensions: string };
  if (protection.kind === "plaintext") {
    protect = (entry) => ({ secret: `<PlainValue>${Buffer.from(entry.seed).toString("base64")}</PlainValue>`, extensions: "" });
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
    const macKey = Buffer.concat([KEY_BINDING_LABEL, randomBytes(20)]);
    header += `
  <MACMethod Algorithm="${HMAC_SHA1}">
    <MACKey>
      <xenc:EncryptionMethod Algorithm="${method}"/>
      <xenc:CipherData><xenc:CipherValue>${aesCbcEncrypt(key, macKey).toString("base64")}</xenc:CipherValue></xenc:CipherData>
    </MACKey>
  </MACMethod>`;
    protect = (entry) => {
      const encrypted = aesCbcEncrypt(key, entry.seed);
      const fields = { keyId: entry.serial, serial: entry.serial, algorithm: entry.algorithm, digits: entry.digits, period: entry.period, t0: entry.t0 ?? 0, user: entry.user ?? null };
      return {
        secret: `<EncryptedValue>
              <xenc:EncryptionMethod Algorithm="${method}"/>
              <xenc:CipherData><xenc:CipherValue>${encrypted.toString("base64")}</xenc:CipherValue></xenc:CipherData>
            </EncryptedValue>
            <ValueMAC>${valueMac("sha1", macKey, encrypted).toString("base64")}</ValueMAC>`,
        extensions: `
      <Extensions definition="${KEY_BINDING_DEFINITION}">
        <jeton:KeyBinding xmlns:jeton="${KEY_BINDING_DEFINITION}">${keyBindingMac("sha1", macKey, fields, encrypted).toString("base64")}</jeton:KeyBinding>
      </Extensions>`,
      };
    };
  }
  const packages = entries.map((entry) => {
    const { secret, extensions } = protect(entry);
    return `
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
          ${secret}
        </Secret>
        <Time><PlainValue>${entry.t0 ?? 0}</PlainValue></Time>
        <TimeInterval><PlainValue>${entry.period}</PlainValue></TimeInterval>
      </Data>${entry.user ? `
      <UserId>${escapeXml(entry.user)}</UserId>` : ""}${extensions}
    </Key>
  </KeyPackage>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>
<KeyContainer Version="1.0" xmlns="${PSKC_NS}" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" xmlns:xenc11="http://www.w3.org/2009/xmlenc11#" xmlns:pkcs5="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#">${header}${packages.join("")}
</KeyContainer>
`;
}

/**
 * Writes the file whole and atomically, readable by its owner only. The temporary file is created
 * exclusively ("wx": O_CREAT | O_EXCL, which also refuses a symbolic link planted at its name) with
 * mode 0600, so seeds are never written into a file someone else created or can read. `replace`:
 * whether an existing file at `path` is replaced (a batch rewriting its export) or refused.
 */
export function writePskcFile(path: string, xml: string, options: { replace: boolean }): void {
  const temporary = `${path}.tmp-${process.pid}`;
  const failed = (error: unknown, file: string, exists: string) => {
    const code = (error as NodeJS.ErrnoException).code;
    return new CommandFailure(code === "EEXIST" ? `cannot write ${path}: ${file} ${exists}` : `cannot write ${file}: ${code ?? (error as Error).message}`, exitCodes.refused);
  };
  try {
    writeFileSync(temporary, xml, { mode: 0o600, flag: "wx" });
  } catch (error) {
    throw failed(error, temporary, "already exists (left by a crash, or not ours): remove it and retry");
  }
  try {
    if (options.replace) renameSync(temporary, path);
    else linkSync(temporary, path); // EEXIST rather than replace a file created in the meantime
  } catch (error) {
    throw failed(error, path, "exists: nothing is overwritten");
  } finally {
    if (!options.replace) unlinkSync(temporary);
  }
}
