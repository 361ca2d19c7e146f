// Export at provisioning time: `--pskc-out <file>` on provision and batch collects each freshly
// generated seed (after its registration succeeded) and rewrites the encrypted PSKC file. When the
// file already exists (a resumed batch), its keys are read back with the same password or key and
// kept, so the file ends up holding every token of the batch.
import { existsSync, readFileSync } from "node:fs";
import type { Command } from "commander";
import { CommandFailure, exitCodes } from "../../common/failure.js";
import { buildPskc, writePskcFile, type PskcEntry } from "./export.js";
import { protectionFrom, type PskcProtection } from "./protection.js";
import { readPskc } from "./read.js";
import type { ProvisionerProfile, TokenAlgorithm } from "../token-profile.js";

export interface ExportOptions {
  pskcOut?: string;
  pskcPasswordFile?: string;
  pskcKeyFile?: string;
  pskcPlaintext?: boolean;
}

export function addExportOptions(command: Command): Command {
  return command
    .option("--pskc-out <file>", "also write the new seeds to this PSKC (RFC 6030) file, encrypted")
    .option("--pskc-password-file <file>", "PSKC encryption: PBKDF2 from the password in this file (or JETON_PSKC_PASSWORD)")
    .option("--pskc-key-file <file>", "PSKC encryption: pre-shared AES key, hex or base64, in this file (or JETON_PSKC_KEY)")
    .option("--pskc-plaintext", "write the PSKC file unencrypted (seeds in the clear)");
}

export interface ExportTarget {
  add(entry: { serial: string; user?: string; seed: Uint8Array; algorithm: TokenAlgorithm }, profile: ProvisionerProfile): void;
  /** rewrites the file; returns a sentence for the operator */
  write(): string;
  readonly count: number;
}

export function openExportTarget(options: ExportOptions, environment: NodeJS.ProcessEnv = process.env): ExportTarget | undefined {
  if (!options.pskcOut) {
    if (options.pskcPasswordFile || options.pskcKeyFile || options.pskcPlaintext) throw new CommandFailure("--pskc-password-file, --pskc-key-file and --pskc-plaintext need --pskc-out", exitCodes.usage);
    return undefined;
  }
  const path = options.pskcOut;
  const protection = protectionFrom({ passwordFile: options.pskcPasswordFile, keyFile: options.pskcKeyFile, plaintext: options.pskcPlaintext }, environment, "export") as PskcProtection;
  const entries: PskcEntry[] = [];
  if (existsSync(path)) {
    // a resumed batch: keep what the file holds (this also proves the password/key is the same)
    for (const key of readPskc(readFileSync(path, "utf8"), protection)) entries.push(key);
  }
  return {
    add(entry, profile) {
      entries.push({ serial: entry.serial, user: entry.user, seed: Buffer.from(entry.seed), algorithm: entry.algorithm, digits: profile.digits, period: profile.period, t0: profile.t0 });
    },
    write() {
      writePskcFile(path, buildPskc(entries, protection), { replace: true });
      return `${entries.length} key(s) in ${path} (${protection.kind === "plaintext" ? "PLAINTEXT" : `encrypted, ${protection.kind}`})`;
    },
    get count() {
      return entries.length;
    },
  };
}
