// Imports PSKC keys into the validator, all or nothing: the file was read whole (every MAC checked,
// no value in two packages), serials are checked here, and the keys go in one request
// (POST /v1/tokens/batch) that the validator registers in one transaction — a serial or a secret it
// already holds refuses the whole file and leaves nothing registered. Imported tokens stay unassigned
// until the help desk assigns them (a UserId in the file is only reported), as vendors' systems keep
// imported tokens inert.
import { CommandFailure, exitCodes } from "../../common/failure.js";
import { serialNumber } from "../../common/identifiers.js";
import { MAX_BATCH_TOKENS } from "../../validator/operations/tokens.js";
import type { ValidatorClient } from "../validator-client.js";
import type { PskcKey } from "./read.js";

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
  if (keys.length > MAX_BATCH_TOKENS) problems.push(`the file holds ${keys.length} keys; the validator registers at most ${MAX_BATCH_TOKENS} at a time: split it`);
  if (problems.length > 0) {
    for (const key of keys) key.seed.fill(0);
    throw new CommandFailure(`nothing imported: ${problems.join("; ")}`, exitCodes.refused);
  }

  const tokens = keys.map((key) => ({
    serial: key.serial,
    secretHex: Buffer.from(key.seed).toString("hex"),
    algorithm: key.algorithm,
    digits: key.digits,
    period: key.period,
  }));
  for (const key of keys) key.seed.fill(0);
  try {
    await validator.call("POST", "/v1/tokens/batch", { tokens });
  } catch (error) {
    const exitCode = (error as CommandFailure).exitCode ?? exitCodes.refused;
    // cut off mid-request, the transaction may have committed or not: all of the file, or none of it
    const outcome = exitCode === exitCodes.unreachable ? `all or none of the file was imported (check with jeton token show ${keys[0]!.serial})` : "nothing imported";
    throw new CommandFailure(`${outcome}: ${(error as Error).message}`, exitCode);
  }
  return keys.map((key) => ({ serial: key.serial, algorithm: key.algorithm, digits: key.digits, period: key.period, suggestedUser: key.user }));
}
