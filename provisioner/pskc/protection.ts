// How a PSKC file is protected, from the operator's options. Secrets never come from the command
// line: a password from a file or JETON_PSKC_PASSWORD, a pre-shared AES key (hex or base64) from a
// file or JETON_PSKC_KEY. Plaintext needs an explicit flag.
import { readFileSync } from "node:fs";
import { CommandFailure, exitCodes } from "../../common/failure.js";

export type PskcProtection =
  | { kind: "password"; password: Buffer }
  | { kind: "pre-shared-key"; key: Buffer; keyName: string }
  | { kind: "plaintext" };

export interface ProtectionOptions {
  passwordFile?: string;
  keyFile?: string;
  keyName?: string;
  plaintext?: boolean;
}

function readSecretFile(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8").replace(/\r?\n$/, "");
  } catch (error) {
    throw new CommandFailure(`cannot read the ${what} file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, exitCodes.usage);
  }
}

export function parseAesKey(text: string, where: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]+$/.test(trimmed) ? Buffer.from(trimmed, "hex") : Buffer.from(trimmed, "base64");
  if (![16, 24, 32].includes(key.length)) {
    throw new CommandFailure(`${where} must hold an AES key of 16, 24 or 32 bytes (hex or base64), got ${key.length} bytes`, exitCodes.usage);
  }
  return key;
}

/**
 * The protection asked for. `required`: export refuses to guess — encrypted unless --plaintext;
 * import accepts none (a plaintext file needs no key).
 */
export function protectionFrom(options: ProtectionOptions, environment: NodeJS.ProcessEnv, purpose: "export" | "import"): PskcProtection | undefined {
  const protection = chosenProtection(options, environment, purpose);
  // a file of seeds protected by a guessable password is a file of seeds: insist on a long one
  if (purpose === "export" && protection?.kind === "password" && protection.password.length < MIN_EXPORT_PASSWORD_LENGTH) {
    throw new CommandFailure(`the PSKC export password must be at least ${MIN_EXPORT_PASSWORD_LENGTH} characters`, exitCodes.usage);
  }
  return protection;
}

export const MIN_EXPORT_PASSWORD_LENGTH = 12;

function chosenProtection(options: ProtectionOptions, environment: NodeJS.ProcessEnv, purpose: "export" | "import"): PskcProtection | undefined {
  const sources = [options.passwordFile, options.keyFile, options.plaintext].filter(Boolean).length;
  if (sources > 1) throw new CommandFailure("give only one of --password-file, --key-file and --plaintext", exitCodes.usage);
  if (options.plaintext) return { kind: "plaintext" };
  if (options.passwordFile) return { kind: "password", password: Buffer.from(readSecretFile(options.passwordFile, "password"), "utf8") };
  if (options.keyFile) return { kind: "pre-shared-key", key: parseAesKey(readSecretFile(options.keyFile, "key"), options.keyFile), keyName: options.keyName ?? "Pre-shared-key" };
  if (environment.JETON_PSKC_PASSWORD) return { kind: "password", password: Buffer.from(environment.JETON_PSKC_PASSWORD, "utf8") };
  if (environment.JETON_PSKC_KEY) return { kind: "pre-shared-key", key: parseAesKey(environment.JETON_PSKC_KEY, "JETON_PSKC_KEY"), keyName: options.keyName ?? "Pre-shared-key" };
  if (purpose === "export") {
    throw new CommandFailure(
      "a PSKC export is encrypted: give --password-file or --key-file (or JETON_PSKC_PASSWORD / JETON_PSKC_KEY); --plaintext writes seeds in the clear",
      exitCodes.usage,
    );
  }
  return undefined;
}
