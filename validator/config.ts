import { join, resolve } from "node:path";
import { z } from "zod";
import { isValidTimeZone } from "./policy/emergency.js";
import type { DatabaseLocation } from "./storage/database.js";

const environmentSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default("127.0.0.1"),
  JETON_DATA_DIR: z.string().min(1).default("data"),
  DATABASE_URL: z
    .string()
    .refine((url) => /^postgres(ql)?:\/\//.test(url), "must be a postgres:// or postgresql:// URL (unset it for the embedded SQLite)")
    .optional(),
  JETON_MASTER_KEY_FILE: z.string().min(1).optional(),
  JETON_TIMEZONE: z.string().refine(isValidTimeZone, "must be an IANA time zone such as Europe/Paris").default("Europe/Paris"),
  JETON_CONSOLE_IDLE_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(15),
  JETON_CONSOLE_MAX_HOURS: z.coerce.number().min(0.1).max(24).default(10),
  JETON_TRUST_PROXY: z
    .string()
    .regex(/^(true|false|[0-9A-Fa-f.:/]+(,[0-9A-Fa-f.:/]+)*)$/, "must be true, false or comma-separated proxy addresses/CIDRs")
    .default("false"),
});

export interface ServerConfig {
  port: number;
  host: string;
  dataDir: string;
  database: DatabaseLocation;
  masterKeyFile: string;
  /** The embedded default creates its key on first start; an explicitly configured key must exist. */
  createMasterKey: boolean;
  timeZone: string;
  console: { idleSeconds: number; maxSeconds: number };
  /** Fastify's trustProxy: whose X-Forwarded-For/-Proto to believe (the console's per-address limit uses it). */
  trustProxy: boolean | string;
}

export class ConfigurationError extends Error {}

/** Validated at start-up: a bad value stops the program with a message naming the variable. */
export function configFromEnvironment(environment: NodeJS.ProcessEnv = process.env): ServerConfig {
  const parsed = environmentSchema.safeParse(
    Object.fromEntries(Object.keys(environmentSchema.shape).map((name) => [name, environment[name] === "" ? undefined : environment[name]])),
  );
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigurationError(`invalid configuration: ${problems.join("; ")}`);
  }
  const env = parsed.data;
  const dataDir = resolve(env.JETON_DATA_DIR);
  return {
    port: env.PORT,
    host: env.HOST,
    dataDir,
    database: env.DATABASE_URL ? { kind: "postgres", url: env.DATABASE_URL } : { kind: "sqlite", file: join(dataDir, "jeton.sqlite") },
    masterKeyFile: env.JETON_MASTER_KEY_FILE ? resolve(env.JETON_MASTER_KEY_FILE) : join(dataDir, "master.key"),
    createMasterKey: env.JETON_MASTER_KEY_FILE === undefined,
    timeZone: env.JETON_TIMEZONE,
    console: { idleSeconds: env.JETON_CONSOLE_IDLE_MINUTES * 60, maxSeconds: Math.round(env.JETON_CONSOLE_MAX_HOURS * 3600) },
    trustProxy: env.JETON_TRUST_PROXY === "true" ? true : env.JETON_TRUST_PROXY === "false" ? false : env.JETON_TRUST_PROXY,
  };
}
