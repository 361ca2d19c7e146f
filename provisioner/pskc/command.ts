// `jeton pskc import` and `jeton pskc export`. Seeds come out of the provisioner only when they are
// generated (`--pskc-out` on provision and batch): the validator never returns one. `pskc export`
// therefore works on such a file — it re-encrypts it for a recipient (another password or key),
// optionally keeping only some serials — and `pskc import` loads any RFC 6030 TOTP file into the
// validator, unassigned.
import { existsSync, readFileSync } from "node:fs";
import type { Command } from "commander";
import { CommandFailure, exitCodes } from "../../common/failure.js";
import { print } from "../cli-support.js";
import { buildPskc, writePskcFile } from "./export.js";
import { importKeys } from "./import.js";
import { protectionFrom, type PskcProtection } from "./protection.js";
import { readPskc } from "./read.js";
import { validatorClient, type AdminApi } from "../validator-client.js";

function readInput(file: string): string {
  if (!existsSync(file)) throw new CommandFailure(`PSKC file ${file} does not exist`, exitCodes.usage);
  return readFileSync(file, "utf8");
}

/** `adminApi` connects to the validator (JETON_URL, JETON_API_KEY) when a command needs it. */
export function registerPskcCommands(program: Command, adminApi: () => AdminApi): void {
  const pskc = program.command("pskc").description("PSKC (RFC 6030) key files: import into the validator, re-encrypt an export");

  pskc
    .command("import <file>")
    .description("register every TOTP key of a PSKC file with the validator, unassigned (JETON_URL, JETON_API_KEY)")
    .option("--password-file <file>", "password of a PBKDF2-encrypted file (or JETON_PSKC_PASSWORD)")
    .option("--key-file <file>", "pre-shared AES key, hex or base64 (or JETON_PSKC_KEY)")
    .option("--plaintext", "the file holds its seeds in the clear: import it anyway (refused without this flag)")
    .option("--json", "machine-readable output")
    .action(async (file: string, options: { passwordFile?: string; keyFile?: string; plaintext?: boolean; json?: boolean }) => {
      const xml = readInput(file);
      const protection = protectionFrom(options, process.env, "import");
      const validator = validatorClient(adminApi());
      await validator.checkAccess();
      const keys = readPskc(xml, protection);
      const imported = await importKeys(keys, validator);
      print(
        options,
        { imported },
        [
          `imported ${imported.length} token(s), unassigned (assign each with \`jeton token assign <serial> <user>\`):`,
          ...imported.map((t) => `  ${t.serial}  ${t.algorithm} ${t.digits} digits / ${t.period} s${t.suggestedUser ? `  (file suggests user ${t.suggestedUser})` : ""}`),
        ].join("\n"),
      );
    });

  pskc
    .command("export <file>")
    .description("re-encrypt a PSKC export (from provision/batch --pskc-out) for a recipient; never plaintext unless --to-plaintext")
    .requiredOption("--out <file>", "the PSKC file to write")
    .option("--password-file <file>", "password of the input file (or JETON_PSKC_PASSWORD)")
    .option("--key-file <file>", "pre-shared key of the input file (or JETON_PSKC_KEY)")
    .option("--plaintext", "the input file holds its seeds in the clear (refused without this flag)")
    .option("--to-password-file <file>", "encrypt the output with PBKDF2 from this password")
    .option("--to-key-file <file>", "encrypt the output with this pre-shared AES key (hex or base64)")
    .option("--to-plaintext", "write the output unencrypted (seeds in the clear)")
    .option("--serial <sn...>", "keep only these serials")
    .option("--json", "machine-readable output")
    .action(
      async (
        file: string,
        options: { out: string; passwordFile?: string; keyFile?: string; plaintext?: boolean; toPasswordFile?: string; toKeyFile?: string; toPlaintext?: boolean; serial?: string[]; json?: boolean },
      ) => {
        const xml = readInput(file);
        if (existsSync(options.out)) throw new CommandFailure(`${options.out} exists: choose another --out (nothing is overwritten)`, exitCodes.usage);
        const output = protectionFrom({ passwordFile: options.toPasswordFile, keyFile: options.toKeyFile, plaintext: options.toPlaintext }, {}, "export") as PskcProtection;
        const keys = readPskc(xml, protectionFrom(options, process.env, "import"));
        const wanted = options.serial ? new Set(options.serial) : undefined;
        const missing = [...(wanted ?? [])].filter((serial) => !keys.some((k) => k.serial === serial));
        if (missing.length) throw new CommandFailure(`not in ${file}: ${missing.join(", ")}`, exitCodes.refused);
        const selected = wanted ? keys.filter((k) => wanted.has(k.serial)) : keys;
        writePskcFile(options.out, buildPskc(selected, output), { replace: false });
        for (const k of keys) k.seed.fill(0);
        print(options, { out: options.out, serials: selected.map((k) => k.serial), protection: output.kind }, `${selected.length} key(s) written to ${options.out} (${output.kind === "plaintext" ? "PLAINTEXT" : `encrypted, ${output.kind}`})`);
      },
    );
}
