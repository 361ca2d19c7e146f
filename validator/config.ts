import { join, resolve } from "node:path";
import { z } from "zod";
import { logLevels, type LogLevel } from "./observability/logger.js";
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
  JETON_RADIUS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  JETON_RADIUS_HOST: z.string().min(1).optional(),
  JETON_PREVIOUS_MASTER_KEY_FILE: z.string().min(1).optional(),
  JETON_TIMEZONE: z.string().refine(isValidTimeZone, "must be an IANA time zone such as Europe/Paris").default("Europe/Paris"),
  JETON_TLS_CERT_FILE: z.string().min(1).optional(),
  JETON_TLS_KEY_FILE: z.string().min(1).optional(),
  JETON_ALLOW_PLAIN_HTTP: z.enum(["0", "1"], { error: "must be 1 (or 0)" }).default("0"),
  // Unset by default: a lock lasts until a help-desk unlock. At most a year.
  JETON_AUTO_UNLOCK_MINUTES: z.coerce
    .number({ message: "must be a whole number of minutes" })
    .int("must be a whole number of minutes")
    .min(1, "must be at least 1 minute (unset it to keep locks until a help-desk unlock)")
    .max(525_600, "must be at most 525600 minutes (a year)")
    .optional(),
  JETON_LOG_LEVEL: z.enum(logLevels, { error: `must be one of ${logLevels.join(", ")}` }).default("info"),
  JETON_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  JETON_METRICS_HOST: z.string().min(1).optional(),
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
  /** During a master-key rotation: the key being replaced, which still opens what is sealed under it. */
  previousMasterKeyFile?: string;
  /** The embedded default creates its key on first start; an explicitly configured key must exist. */
  createMasterKey: boolean;
  timeZone: string;
  /** Serve HTTPS with this certificate (chain) and private key, both PEM files. */
  tls?: { certFile: string; keyFile: string };
  /** Plain HTTP on a non-loopback address, for a validator behind a TLS-terminating proxy. */
  allowPlainHttp: boolean;
  /** Minutes after the last failure when a lock lifts by itself; null: only a help-desk unlock lifts it. */
  autoUnlockMinutes: number | null;
  logLevel: LogLevel;
  /** The separate /metrics listener (no key), when JETON_METRICS_PORT or JETON_METRICS_HOST is set. */
  metricsListener?: { host: string; port: number };
  /** The RADIUS listener (UDP), only when JETON_RADIUS_PORT is set; the host defaults to HOST. */
  radius?: { port: number; host: string };
  console: { idleSeconds: number; maxSeconds: number };
  /** Fastify's trustProxy: whose X-Forwarded-For/-Proto to believe (the console's per-address limit uses it). */
  trustProxy: boolean | string;
}

export class ConfigurationError extends Error {}

/**
 * Said at start-up for JETON_TRUST_PROXY=true (or a /0 block, which is the same): every hop is then believed, so any client can name its own
 * address in X-Forwarded-For (the console's per-address sign-in limit and the audit's source rely on it).
 */
export function trustProxyWarning(config: Pick<ServerConfig, "trustProxy">): string | undefined {
  const everyone = config.trustProxy === true || (typeof config.trustProxy === "string" && config.trustProxy.split(",").some((entry) => entry.endsWith("/0")));
  if (!everyone) return undefined;
  return `JETON_TRUST_PROXY=${String(config.trustProxy)} believes X-Forwarded-For from any client, which can then choose the address the console's sign-in limit and the audit see: set it to the proxy's address instead`;
}

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
  if ((env.JETON_TLS_CERT_FILE === undefined) !== (env.JETON_TLS_KEY_FILE === undefined)) {
    throw new ConfigurationError(
      `invalid configuration: JETON_TLS_CERT_FILE and JETON_TLS_KEY_FILE go together (only ${env.JETON_TLS_CERT_FILE ? "JETON_TLS_CERT_FILE" : "JETON_TLS_KEY_FILE"} is set)`,
    );
  }
  const dataDir = resolve(env.JETON_DATA_DIR);
  return {
    port: env.PORT,
    host: env.HOST,
    dataDir,
    database: env.DATABASE_URL ? { kind: "postgres", url: env.DATABASE_URL } : { kind: "sqlite", file: join(dataDir, "jeton.sqlite") },
    masterKeyFile: env.JETON_MASTER_KEY_FILE ? resolve(env.JETON_MASTER_KEY_FILE) : join(dataDir, "master.key"),
    createMasterKey: env.JETON_MASTER_KEY_FILE === undefined,
    ...(env.JETON_PREVIOUS_MASTER_KEY_FILE && { previousMasterKeyFile: resolve(env.JETON_PREVIOUS_MASTER_KEY_FILE) }),
    timeZone: env.JETON_TIMEZONE,
    ...(env.JETON_TLS_CERT_FILE && env.JETON_TLS_KEY_FILE && { tls: { certFile: resolve(env.JETON_TLS_CERT_FILE), keyFile: resolve(env.JETON_TLS_KEY_FILE) } }),
    allowPlainHttp: env.JETON_ALLOW_PLAIN_HTTP === "1",
    autoUnlockMinutes: env.JETON_AUTO_UNLOCK_MINUTES ?? null,
    logLevel: env.JETON_LOG_LEVEL,
    ...((env.JETON_METRICS_PORT !== undefined || env.JETON_METRICS_HOST !== undefined) && {
      metricsListener: { host: env.JETON_METRICS_HOST ?? "127.0.0.1", port: env.JETON_METRICS_PORT ?? 9464 },
    }),
    ...(env.JETON_RADIUS_PORT !== undefined && { radius: { port: env.JETON_RADIUS_PORT, host: env.JETON_RADIUS_HOST ?? env.HOST } }),
    console: { idleSeconds: env.JETON_CONSOLE_IDLE_MINUTES * 60, maxSeconds: Math.round(env.JETON_CONSOLE_MAX_HOURS * 3600) },
    trustProxy: env.JETON_TRUST_PROXY === "true" ? true : env.JETON_TRUST_PROXY === "false" ? false : env.JETON_TRUST_PROXY,
  };
}
