// Serial numbers for our tokens: the format the firmware accepts (devicescript.json), either given
// by the operator (printed on the case) or drawn at random and checked unused at the validator.
import { randomInt } from "node:crypto";
import { serialNumber } from "../common/identifiers.js";
import { CommandFailure, exitCodes } from "../common/failure.js";
import type { ProvisionerProfile } from "./token-profile.js";
import type { ValidatorClient } from "./validator-client.js";

/** Why `serial` cannot be given to one of our tokens (the validator's rule for every serial, then the profile's format), or null. */
export function serialProblem(serial: string, profile: ProvisionerProfile): string | null {
  const accepted = serialNumber.safeParse(serial);
  if (!accepted.success) return `serial "${serial}" is refused (${accepted.error.issues[0]?.message})`;
  if (!profile.serialPattern.test(serial)) return `serial "${serial}" does not match the token profile (${profile.serialPattern.source}, e.g. ${profile.serialExample})`;
  return null;
}

export function checkSerialFormat(serial: string, profile: ProvisionerProfile): void {
  const problem = serialProblem(serial, profile);
  if (problem) throw new CommandFailure(problem, exitCodes.usage);
}

/** A random serial in the profile's JT + 8 digits shape that the validator does not know yet. */
export async function freshSerial(profile: ProvisionerProfile, validator: ValidatorClient, taken: Set<string> = new Set()): Promise<string> {
  const shape = /^\^([A-Z]*)\[0-9\]\{(\d+)\}\$$/.exec(profile.serialPattern.source);
  if (!shape) throw new CommandFailure(`cannot draw serials of the form ${profile.serialPattern.source}: give --serial`, exitCodes.usage);
  const [, prefix, width] = shape;
  for (let attempt = 0; attempt < 20; attempt++) {
    const serial = prefix + String(randomInt(0, 10 ** Number(width))).padStart(Number(width), "0");
    if (!taken.has(serial) && !(await validator.findToken(serial))) return serial;
  }
  throw new CommandFailure("could not find an unused serial number after 20 attempts: give --serial", exitCodes.refused);
}
