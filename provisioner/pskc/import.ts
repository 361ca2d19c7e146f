// Imports PSKC keys into the validator: all or nothing as far as it can be checked beforehand (the
// file was read whole and every MAC checked; no serial may be registered already or appear twice),
// then one registration per key. Imported tokens stay unassigned until the help desk assigns them
// (a UserId in the file is only reported), as vendors' systems keep imported tokens inert.
import { CommandFailure, exitCodes } from "../../validator/cli/api-client.js";
import { serialNumber } from "../../validator/http/schemas.js";
import type { PskcKey } from "./read.js";
import type { ValidatorClient } from "../validator-client.js";

export interface ImportedToken {
  serial: string;
  algorithm: string;
  digits: number;
  period: number;
  /** the UserId the file suggests (not applied) */
  suggestedUser: string | null;
}

export async function importKeys(keys: PskcKey[], validator: ValidatorClient): Promise<ImportedToken[]> {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const key of keys) {
    if (!serialNumber.safeParse(key.serial).success) problems.push(`key ${key.keyId}: serial "${key.serial}" is not 1–64 letters, digits, - _ or .`);
    else if (seen.has(key.serial)) problems.push(`serial ${key.serial} appears twice`);
    seen.add(key.serial);
  }
  if (problems.length === 0) {
    for (const key of keys) if (await validator.findToken(key.serial)) problems.push(`serial ${key.serial} is already registered`);
  }
  if (problems.length > 0) throw new CommandFailure(`nothing imported: ${problems.join("; ")}`, exitCodes.refused);

  const imported: ImportedToken[] = [];
  for (const key of keys) {
    try {
      await validator.call("POST", "/v1/tokens", {
        serial: key.serial,
        secretHex: Buffer.from(key.seed).toString("hex"),
        algorithm: key.algorithm,
        digits: key.digits,
        period: key.period,
      });
    } catch (error) {
      const done = imported.map((t) => t.serial).join(", ") || "none";
      throw new CommandFailure(`importing ${key.serial} failed (${(error as Error).message}); already imported: ${done}`, (error as CommandFailure).exitCode ?? exitCodes.refused);
    } finally {
      key.seed.fill(0);
    }
    imported.push({ serial: key.serial, algorithm: key.algorithm, digits: key.digits, period: key.period, suggestedUser: key.user });
  }
  return imported;
}
