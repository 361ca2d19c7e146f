import fc from "fast-check";
import { randomBytes } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ValidatorContext } from "../../validator/context.js";
import { buildHttpServer } from "../../validator/http/server.js";
import { createApiKey } from "../../validator/operations/api-keys.js";
import { masterKeyFrom } from "../../validator/secrets/master-key.js";
import { openValidator } from "../../validator/validator.js";
import { testDatabase } from "../support/test-validator.js";
import { fuzzRuns } from "./fuzz-runs.js";

/** Every endpoint that takes a body or a path parameter, with a key of a role allowed to call it. */
const endpoints = [
  { method: "POST", url: "/v1/validate", role: "portal" },
  { method: "POST", url: "/v1/tokens", role: "helpdesk" },
  { method: "POST", url: "/v1/tokens/JT00000001/assign", role: "helpdesk" },
  { method: "POST", url: "/v1/tokens/JT00000001/unassign", role: "helpdesk" },
  { method: "POST", url: "/v1/tokens/JT00000001/disable", role: "helpdesk" },
  { method: "POST", url: "/v1/tokens/JT00000001/enable", role: "helpdesk" },
  { method: "POST", url: "/v1/users/jdupont/pin-reset", role: "helpdesk" },
  { method: "POST", url: "/v1/users/jdupont/unlock", role: "helpdesk" },
  { method: "POST", url: "/v1/users/jdupont/emergency", role: "helpdesk" },
] as const;

/** JSON shaped like our bodies (known field names, odd values) and anything else. */
const fieldNames = fc.constantFrom("user", "passcode", "challenge", "response", "serial", "secret", "secretHex", "algorithm", "digits", "period", "reason", "__proto__", "constructor");
const bodies = fc.oneof(
  fc.dictionary(fieldNames, fc.oneof(fc.string({ maxLength: 80 }), fc.integer(), fc.jsonValue({ maxDepth: 2 }), fc.constant(null))),
  fc.jsonValue({ maxDepth: 4 }),
);
const rawBodies = fc.oneof(fc.string({ unit: "binary", maxLength: 200 }), fc.constant("{"), fc.constant("null"), fc.constant("[]"));
const pathSegments = fc.string({ unit: "grapheme", minLength: 1, maxLength: 80 });

describe("fuzz: HTTP bodies and paths", () => {
  let ctx: ValidatorContext;
  let app: FastifyInstance;
  let drop: () => Promise<void>;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    const database = await testDatabase("sqlite");
    drop = database.drop;
    ctx = await openValidator({ database: database.location, masterKey: masterKeyFrom(randomBytes(32)) });
    app = buildHttpServer(ctx, { version: "fuzz" });
    for (const role of ["portal", "helpdesk"] as const) keys[role] = (await createApiKey(ctx.database.db, role, null, Date.now())).key;
  });
  afterAll(async () => {
    await app?.close();
    await ctx?.database.close();
    await drop?.();
  });

  /** Everything but the append-only audit log (which records the refused validations). */
  const state = async () => {
    const db = ctx.database.db;
    return [
      await db.selectFrom("users").selectAll().execute(),
      await db.selectFrom("tokens").selectAll().execute(),
      await db.selectFrom("challenges").selectAll().execute(),
      await db.selectFrom("emergency_passwords").selectAll().execute(),
    ];
  };

  it("any JSON or raw body: a 4xx (or a validate reject), never an error, never an accept, no state change", async () => {
    const before = await state();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...endpoints), fc.oneof(bodies.map((body) => JSON.stringify(body) ?? "null"), rawBodies), async (endpoint, payload) => {
        const response = await app.inject({
          method: endpoint.method,
          url: endpoint.url,
          headers: { authorization: `Bearer ${keys[endpoint.role]}`, "content-type": "application/json" },
          payload,
        });
        if (endpoint.url === "/v1/validate" && response.statusCode === 200) {
          expect(response.json()).toEqual({ result: "reject", message: "Authentication failed." });
        } else {
          expect(response.statusCode, `${endpoint.url} ${payload.slice(0, 100)} → ${response.body}`).toBeGreaterThanOrEqual(400);
          expect(response.statusCode).toBeLessThan(500);
        }
      }),
      { numRuns: fuzzRuns },
    );
    expect(await state()).toEqual(before);
  });

  it("any path parameter: a 4xx, never an error", async () => {
    await fc.assert(
      fc.asyncProperty(pathSegments, fc.constantFrom("/v1/tokens/", "/v1/users/"), async (segment, prefix) => {
        const response = await app.inject({ method: "GET", url: prefix + encodeURIComponent(segment), headers: { authorization: `Bearer ${keys.helpdesk}` } });
        expect(response.statusCode).toBeGreaterThanOrEqual(400);
        expect(response.statusCode).toBeLessThan(500);
      }),
      { numRuns: fuzzRuns },
    );
  });
});
