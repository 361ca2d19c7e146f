// Reads an RFC 6030 PSKC file into TOTP keys: parses the XML (fast-xml-parser, namespace prefixes
// dropped so any prefix works), derives or takes the encryption key, decrypts the MAC key, and for
// every key checks the MAC before decrypting the secret. Both TOTP algorithm URIs seen in real
// files are accepted; anything else, a bad MAC or a missing parameter makes the whole file refused,
// with every problem named — an import is all or nothing.
//
// What someone who can edit the file (but has no key) could try, and what stops it: a PlainValue put
// in place of an encrypted secret (refused in any file with an EncryptionKey or MACMethod; a plaintext
// file is read only when the operator says --plaintext); one encrypted value copied into several
// packages (the same secret, ciphertext or MAC twice is refused); values swapped between packages
// (RFC 6030's MAC does not cover the package, so Jeton's exports carry a binding MAC — crypto.ts — that
// a file whose MAC key says so must have on every key); an IterationCount that would take hours.
import { XMLParser } from "fast-xml-parser";
import { CommandFailure, exitCodes } from "../../common/failure.js";
import { userId } from "../../common/identifiers.js";
import {
  AES_CBC,
  aesCbcDecrypt,
  derivePasswordKey,
  KEY_BINDING_DEFINITION,
  KEY_BINDING_LABEL,
  keyBindingMac,
  MAC_ALGORITHMS,
  macMatches,
  MAX_PBKDF2_ITERATIONS,
  PBKDF2,
  PBKDF2_PRFS,
  sameBytes,
} from "./crypto.js";
import type { PskcEntry } from "./export.js";
import type { PskcProtection } from "./protection.js";

/** `…:pskc:totp` is the registered URI; `…:pskc#totp` appears in files from several vendors. */
export const TOTP_ALGORITHM_URIS = ["urn:ietf:params:xml:ns:keyprov:pskc:totp", "urn:ietf:params:xml:ns:keyprov:pskc#totp"];

export interface PskcKey extends PskcEntry {
  keyId: string;
  user: string | null;
}

type Node = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (name) => name === "KeyPackage",
  processEntities: true,
});

const text = (value: unknown): string | undefined => {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value;
  if (typeof value === "object" && "#text" in (value as Node)) return String((value as Node)["#text"]);
  return undefined;
};
const node = (value: unknown): Node => (value && typeof value === "object" ? (value as Node) : {});
const attribute = (value: unknown, name: string): string | undefined => text(node(value)[`@${name}`]);
const base64 = (value: string | undefined): Buffer | undefined => (value === undefined ? undefined : Buffer.from(value.replace(/\s+/g, ""), "base64"));

function fail(message: string): never {
  throw new CommandFailure(message, exitCodes.refused);
}

/** The container's encryption key (undefined for a plaintext file). */
function encryptionKey(container: Node, protection: PskcProtection | undefined): Buffer | undefined {
  const encryption = container.EncryptionKey;
  if (encryption === undefined) return undefined;
  const derived = node(encryption).DerivedKey;
  if (derived !== undefined) {
    const method = node(node(derived).KeyDerivationMethod);
    if (attribute(method, "Algorithm") !== PBKDF2) fail(`unsupported key derivation ${attribute(method, "Algorithm")} (only PBKDF2)`);
    if (protection?.kind !== "password") fail("the file is encrypted with a password: give --password-file (or JETON_PSKC_PASSWORD)");
    const parameters = node(method["PBKDF2-params"]);
    const salt = base64(text(node(parameters.Salt).Specified));
    const iterations = Number(text(parameters.IterationCount));
    const keyLength = Number(text(parameters.KeyLength) ?? 16);
    const prf = PBKDF2_PRFS[attribute(parameters.PRF, "Algorithm") ?? ""];
    if (!salt || !Number.isInteger(iterations) || iterations < 1 || !prf || ![16, 24, 32].includes(keyLength)) fail("the PBKDF2 parameters of the file are incomplete or unsupported");
    if (iterations > MAX_PBKDF2_ITERATIONS) fail(`the file asks for ${iterations} PBKDF2 iterations, more than the ${MAX_PBKDF2_ITERATIONS} accepted`);
    return derivePasswordKey(protection.password, salt, iterations, keyLength, prf);
  }
  if (node(encryption).KeyName !== undefined) {
    if (protection?.kind !== "pre-shared-key") fail(`the file is encrypted with a pre-shared key ("${text(node(encryption).KeyName)}"): give --key-file (or JETON_PSKC_KEY)`);
    return protection.key;
  }
  fail("unsupported EncryptionKey in the file (expected a pre-shared key name or a PBKDF2-derived key)");
}

function decrypt(key: Buffer, encrypted: Node, what: string): { plain: Buffer; cipher: Buffer } {
  const method = attribute(encrypted.EncryptionMethod, "Algorithm") ?? "";
  const keyLength = AES_CBC[method];
  if (!keyLength) fail(`${what}: unsupported encryption ${method || "(none)"} (AES-CBC expected)`);
  if (keyLength !== key.length) fail(`${what}: encrypted with ${method} but the key is ${key.length} bytes`);
  const cipher = base64(text(node(encrypted.CipherData).CipherValue));
  if (!cipher) fail(`${what}: no CipherValue`);
  try {
    return { plain: aesCbcDecrypt(key, cipher), cipher };
  } catch {
    fail(`${what}: cannot be decrypted — wrong password or key`);
  }
}

function suiteAlgorithm(suite: string | undefined): PskcEntry["algorithm"] | undefined {
  if (suite === undefined) return "SHA1"; // RFC 6238's default
  const match = /^(?:HMAC-)?SHA-?(1|256|512)$/i.exec(suite.trim());
  return match ? (`SHA${match[1]}` as PskcEntry["algorithm"]) : undefined;
}

/** The Jeton key binding among a Key's <Extensions> elements (crypto.ts), if any. */
function keyBindingOf(k: Node): string | undefined {
  const extensions = Array.isArray(k.Extensions) ? k.Extensions : [k.Extensions];
  for (const extension of extensions) {
    if (attribute(extension, "definition") === KEY_BINDING_DEFINITION) return text(node(extension).KeyBinding);
  }
  return undefined;
}

export function readPskc(xml: string, protection: PskcProtection | undefined): PskcKey[] {
  let document: Node;
  try {
    document = parser.parse(xml, true) as Node;
  } catch (error) {
    fail(`not a well-formed XML file: ${(error as Error).message.split("\n")[0]}`);
  }
  const container = node(document.KeyContainer);
  if (document.KeyContainer === undefined) fail("not a PSKC file (no KeyContainer)");
  const encryptedFile = container.EncryptionKey !== undefined || container.MACMethod !== undefined;
  if (!encryptedFile && protection?.kind !== "plaintext") {
    fail("the file holds its secrets in plaintext (no EncryptionKey): import it only knowingly, with --plaintext");
  }
  if (encryptedFile && protection?.kind === "plaintext") fail("the file is encrypted: give --password-file or --key-file instead of --plaintext");
  const key = encryptionKey(container, protection);

  let macKey: Buffer | undefined;
  let macAlgorithm: "sha1" | "sha256" | undefined;
  if (container.MACMethod !== undefined) {
    const uri = attribute(container.MACMethod, "Algorithm") ?? "";
    macAlgorithm = MAC_ALGORITHMS[uri];
    if (!macAlgorithm) fail(`unsupported MAC algorithm ${uri || "(none)"}`);
    const wrapped = node(container.MACMethod).MACKey;
    if (wrapped === undefined) fail("the MACMethod carries no MACKey (MACKeyReference is not supported)");
    if (!key) fail("the file carries an encrypted MAC key but no EncryptionKey");
    macKey = decrypt(key, node(wrapped), "the MAC key").plain;
  }
  const bound = macKey !== undefined && macKey.subarray(0, KEY_BINDING_LABEL.length).equals(KEY_BINDING_LABEL);

  const keys: PskcKey[] = [];
  const problems: string[] = [];
  // one value in two packages: a copied secret (and, with RFC 6030's MAC, undetectable otherwise)
  const seen = { secret: new Map<string, string>(), "encrypted value": new Map<string, string>(), MAC: new Map<string, string>() };
  const once = (kind: keyof typeof seen, value: Buffer, label: string) => {
    const fingerprint = value.toString("base64");
    const first = seen[kind].get(fingerprint);
    if (first !== undefined) fail(`${label}: the same ${kind} as ${first} (copied between key packages?)`);
    seen[kind].set(fingerprint, label);
  };
  const packages = (container.KeyPackage as unknown[] | undefined) ?? [];
  if (packages.length === 0) fail("the file holds no KeyPackage");
  packages.forEach((raw, index) => {
    const pkg = node(raw);
    const k = node(pkg.Key);
    const keyId = attribute(k, "Id") ?? `#${index + 1}`;
    const label = `key ${keyId}`;
    try {
      const algorithmUri = attribute(k, "Algorithm") ?? "";
      if (!TOTP_ALGORITHM_URIS.includes(algorithmUri)) fail(`${label}: unknown algorithm "${algorithmUri}" (only TOTP is imported: ${TOTP_ALGORITHM_URIS.join(" or ")})`);
      const parameters = node(k.AlgorithmParameters);
      const algorithm = suiteAlgorithm(text(parameters.Suite));
      if (!algorithm) fail(`${label}: unknown Suite "${text(parameters.Suite)}"`);
      const format = parameters.ResponseFormat;
      const digits = Number(attribute(format, "Length") ?? 6);
      const encoding = attribute(format, "Encoding") ?? "DECIMAL";
      if (encoding !== "DECIMAL" || !Number.isInteger(digits) || digits < 6 || digits > 8) fail(`${label}: response format ${digits} ${encoding} is not 6–8 decimal digits`);
      const data = node(k.Data);
      const period = Number(text(node(data.TimeInterval).PlainValue) ?? 30); // RFC 6238's default step
      if (!Number.isInteger(period) || period < 1 || period > 3600) fail(`${label}: TimeInterval ${period} is not 1–3600 s`);
      const t0 = Number(text(node(data.Time).PlainValue) ?? 0);
      if (t0 !== 0) fail(`${label}: Time (T0) ${t0} is not supported (only 0)`);
      const secretNode = node(data.Secret);
      const serial = text(node(pkg.DeviceInfo).SerialNo) ?? keyId;
      const suggested = text(k.UserId) ?? text(node(pkg.DeviceInfo).UserId);
      // Only a suggestion, shown to the help desk: one that no front door would accept is left out.
      const user = suggested !== undefined && userId.safeParse(suggested).success ? suggested : null;
      let seed: Buffer;
      if (secretNode.PlainValue !== undefined) {
        if (encryptedFile) fail(`${label}: a plaintext secret in an encrypted file (substituted?)`);
        seed = base64(text(secretNode.PlainValue))!;
      } else if (secretNode.EncryptedValue !== undefined) {
        if (!key) fail(`${label}: encrypted secret but the file has no EncryptionKey`);
        const encrypted = node(secretNode.EncryptedValue);
        const cipher = base64(text(node(encrypted.CipherData).CipherValue));
        const mac = base64(text(secretNode.ValueMAC));
        if (!macKey || !macAlgorithm || !mac) fail(`${label}: encrypted secret without a ValueMAC (integrity cannot be checked)`);
        if (!cipher || !macMatches(macAlgorithm, macKey, cipher, mac)) fail(`${label}: bad MAC — the secret was altered or the key is wrong`);
        once("encrypted value", cipher, label);
        once("MAC", mac, label);
        if (bound) {
          const binding = base64(keyBindingOf(k));
          const expected = keyBindingMac(macAlgorithm, macKey, { keyId, serial, algorithm, digits, period, t0, user }, cipher);
          if (!binding || !sameBytes(expected, binding)) fail(`${label}: its secret is not bound to this key package (moved from another package, or its parameters altered)`);
        }
        seed = decrypt(key, encrypted, label).plain;
      } else {
        fail(`${label}: no secret`);
      }
      if (seed.length < 16) fail(`${label}: secret of ${seed.length} bytes is shorter than 128 bits`);
      once("secret", seed, label);
      keys.push({ keyId, serial, user, seed, algorithm, digits, period, t0 });
    } catch (error) {
      problems.push((error as Error).message);
    }
  });
  if (problems.length > 0) {
    for (const k of keys) k.seed.fill(0);
    fail(`the PSKC file is refused (nothing imported): ${problems.join("; ")}`);
  }
  return keys;
}
