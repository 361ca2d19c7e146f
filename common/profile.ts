import { readFileSync } from "node:fs";
import { z } from "zod";
import { projectFile } from "./project-files.js";

export const hashAlgorithms = ["SHA1", "SHA256", "SHA512"] as const;
export type HashAlgorithm = (typeof hashAlgorithms)[number];

const profileSchema = z.object({
  algorithm: z.enum(hashAlgorithms),
  digits: z.number().int().min(6).max(8),
  period: z.number().int().min(1).max(3600),
  t0: z.number().int(),
  secretLength: z.record(z.string(), z.number().int().positive()),
});

/** The token profile shared by firmware, provisioner and validator (devicescript.json). */
export type TokenProfile = z.infer<typeof profileSchema>;

export function loadProfile(path = projectFile("devicescript.json")): TokenProfile {
  const parsed = profileSchema.safeParse(JSON.parse(readFileSync(path, "utf8")));
  if (!parsed.success) throw new Error(`invalid token profile ${path}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
