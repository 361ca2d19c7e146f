import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll } from "vitest";
import type { ValidatorContext } from "../../validator/context.js";
import type { ConsoleOptions } from "../../validator/console/console-server.js";
import { buildHttpServer } from "../../validator/http/server.js";
import { createLogger } from "../../validator/observability/logger.js";
import { createApiKey, type Role } from "../../validator/operations/api-keys.js";
import { defaultPolicy, type VerificationPolicy } from "../../validator/policy/policy.js";
import { loadProfile } from "../../common/profile.js";
import { masterKeyFrom } from "../../validator/secrets/master-key.js";
import type { DatabaseLocation } from "../../validator/storage/database.js";
import { openValidator } from "../../validator/validator.js";
import { createTestDatabase, postgresAvailable } from "./postgres.js";
import { captureLog } from "./log-guard.js";
import { startRoundTripCounter, type RoundTripCounter } from "./round-trip-counter.js";
import { rememberSecret } from "./secret-registry.js";

export type DialectName = "sqlite" | "postgres";

/** Both dialects, PostgreSQL only when reachable (postgres.ts says so when it is not). */
export const dialects: DialectName[] = postgresAvailable ? ["sqlite", "postgres"] : ["sqlite"];

/** A database of the given dialect for one test file, removed by `drop`. */
export async function testDatabase(dialect: DialectName): Promise<{ location: DatabaseLocation; drop(): Promise<void> }> {
  if (dialect === "postgres") {
    const database = await createTestDatabase();
    return { location: { kind: "postgres", url: database.url }, drop: database.drop };
  }
  const directory = mkdtempSync(join(tmpdir(), "jeton-test-"));
  return { location: { kind: "sqlite", file: join(directory, "jeton.sqlite") }, drop: async () => rmSync(directory, { recursive: true, force: true }) };
}

/** A settable clock (Unix ms), starting 30 s into a 60 s step. */
export class TestClock {
  constructor(public millis = Date.UTC(2026, 10, 26, 8, 0, 30)) {}
  now = () => this.millis;
  advance(seconds: number): void {
    this.millis += seconds * 1000;
  }
}

export interface RunningValidator {
  ctx: ValidatorContext;
  clock: TestClock;
  url: string;
  keys: Record<Role, string>;
  masterKey: Buffer;
  request(method: string, path: string, body?: unknown, role?: Role, headers?: Record<string, string>): Promise<{ status: number; text: string; json: any }>;
  /** What the server has logged so far, one parsed JSON line each. */
  logLines(): Record<string, any>[];
  close(): Promise<void>;
}

/** A validator on a real HTTP port with an injectable clock, an API key of each role, over `location`. */
export async function startValidator(
  location: DatabaseLocation,
  options: {
    policy?: Partial<VerificationPolicy>;
    clock?: TestClock;
    masterKey?: Buffer;
    previousMasterKey?: Buffer;
    console?: ConsoleOptions;
    requestTimeoutMs?: number;
  } = {},
): Promise<RunningValidator> {
  const clock = options.clock ?? new TestClock();
  const masterKey = options.masterKey ?? randomBytes(32);
  const policy = { ...defaultPolicy(loadProfile(), "Europe/Paris"), ...options.policy };
  const previousMasterKey = options.previousMasterKey && masterKeyFrom(options.previousMasterKey);
  const ctx = await openValidator({ database: location, masterKey: masterKeyFrom(masterKey), previousMasterKey, policy, now: clock.now });
  // What the server logs goes to the log guard, which fails the run if a secret a test used is in it:
  // kept in memory and handed over at close (a file write per line would slow 1 000-request tests).
  const logged: string[] = [];
  const logger = createLogger("info", { write: (line: string) => void logged.push(line) });
  const app = buildHttpServer(ctx, { version: "test", logger, console: options.console, requestTimeoutMs: options.requestTimeoutMs });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const keys = {} as Record<Role, string>;
  for (const role of ["portal", "support", "helpdesk", "auditor", "metrics"] as const) {
    keys[role] = (await createApiKey(ctx.database.db, role, null, clock.now())).key;
    rememberSecret(keys[role]);
  }
  return {
    ctx,
    clock,
    url,
    keys,
    masterKey,
    async request(method, path, body, role = "helpdesk", headers = {}) {
      if (body && typeof body === "object") {
        for (const field of ["passcode", "response", "secret", "secretHex"]) rememberSecret((body as Record<string, unknown>)[field]);
      }
      const response = await fetch(url + path, {
        method,
        headers: { authorization: `Bearer ${keys[role]}`, ...(body !== undefined && { "content-type": "application/json" }), ...headers },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      });
      const text = await response.text();
      let json: unknown = null;
      try {
        json = JSON.parse(text);
      } catch {
        json = null;
      }
      if (json && typeof json === "object") rememberSecret((json as { password?: unknown }).password);
      return { status: response.status, text, json };
    },
    logLines() {
      return logged.flatMap((chunk) => chunk.split("\n")).filter((line) => line.trim() !== "").map((line) => JSON.parse(line) as Record<string, any>);
    },
    async close() {
      await app.close();
      captureLog(logged.join("").trimEnd());
      await ctx.database.close();
    },
  };
}

/**
 * A validator on a fresh database of `dialect` for the enclosing describe block: started before its
 * tests (then handed to `started`), closed and its database dropped after them, also when they fail.
 */
export function validatorForSuite(dialect: DialectName, started: (validator: RunningValidator) => void): void {
  let validator: RunningValidator | undefined;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const database = await testDatabase(dialect);
    drop = database.drop;
    validator = await startValidator(database.location);
    started(validator);
  });
  afterAll(async () => {
    await validator?.close();
    await drop?.();
  });
}

/**
 * As validatorForSuite, on a fresh PostgreSQL database reached through a proxy that counts round trips
 * (round-trip-counter.ts); the proxy is closed after the tests too.
 */
export function countedValidatorForSuite(started: (validator: RunningValidator, counter: RoundTripCounter) => void): void {
  let validator: RunningValidator | undefined;
  let counter: RoundTripCounter | undefined;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const database = await createTestDatabase();
    drop = database.drop;
    counter = await startRoundTripCounter(database.url);
    validator = await startValidator({ kind: "postgres", url: counter.url });
    started(validator, counter);
  });
  afterAll(async () => {
    await validator?.close();
    await counter?.close();
    await drop?.();
  });
}
