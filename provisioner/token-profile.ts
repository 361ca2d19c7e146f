// The token profile as the provisioner needs it (devicescript.json): the validator's view of it
// (algorithm, digits, period, t0, secret lengths) plus what only the provisioner checks before a
// write — the serial-number format the firmware accepts and its largest clock correction.
import { readFileSync } from "node:fs";
import { z } from "zod";
import { projectFile } from "../common/project-files.js";
import { loadProfile, type TokenProfile } from "../common/profile.js";

const provisionerFields = z.object({
  profile: z.string(),
  serialNumber: z.object({ pattern: z.string(), example: z.string() }),
  clock: z.object({ maxForwardCorrectionSeconds: z.number().int().positive() }),
});

export type TokenAlgorithm = "SHA1" | "SHA256";

export interface ProvisionerProfile extends TokenProfile {
  id: string;
  serialPattern: RegExp;
  serialExample: string;
  maxForwardCorrectionSeconds: number;
}

export function loadProvisionerProfile(path = projectFile("devicescript.json")): ProvisionerProfile {
  const base = loadProfile(path);
  const parsed = provisionerFields.safeParse(JSON.parse(readFileSync(path, "utf8")));
  if (!parsed.success) throw new Error(`invalid token profile ${path}: ${z.prettifyError(parsed.error)}`);
  return {
    ...base,
    id: parsed.data.profile,
    serialPattern: new RegExp(parsed.data.serialNumber.pattern),
    serialExample: parsed.data.serialNumber.example,
    maxForwardCorrectionSeconds: parsed.data.clock.maxForwardCorrectionSeconds,
  };
}

/** Seed length for an algorithm, from the profile (32 bytes for SHA-256, 20 for SHA-1 by default). */
export function seedLength(profile: ProvisionerProfile, algorithm: TokenAlgorithm): number {
  const length = profile.secretLength[algorithm];
  if (!length) throw new Error(`the token profile has no secretLength for ${algorithm}`);
  return length;
}
