import { z } from "zod";
import {
  assignRequest,
  challengeResponseRequest,
  disableRequest,
  passcodeRequest,
  setTimeConfirmation,
  setTimeMacRequest,
  setTimeTrimMacRequest,
  tokenBatchRequest,
  tokenRegistrationRequest,
} from "./schemas.js";

const json = (schema: z.ZodType) => ({
  content: { "application/json": { schema: z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) } },
});

const errors = {
  "400": { description: "Malformed request: `{error, message, fields: [{field, message}]}`" },
  "401": { description: "Missing or wrong API key" },
  "403": { description: "The key's role does not allow this operation" },
};

const bearer = [{ apiKey: [] }];

/** The API contract of DESIGN.md as an OpenAPI 3.1 document, with bodies generated from the zod schemas. */
export function openApiDocument(version: string) {
  const operation = (summary: string, role: string, extra: Record<string, unknown> = {}) => ({
    summary: `${summary} (role: ${role})`,
    security: bearer,
    responses: { "200": { description: "OK" }, ...errors, "404": { description: "Unknown token or user" } },
    ...extra,
  });
  return {
    openapi: "3.1.0",
    info: { title: "Jeton validator", version },
    components: { securitySchemes: { apiKey: { type: "http", scheme: "bearer" } } },
    paths: {
      "/health": { get: { summary: "Liveness (no authentication)", responses: { "200": { description: "OK" } } } },
      "/v1/validate": {
        post: operation("Check a passcode or answer a challenge", "portal", {
          requestBody: json(z.union([passcodeRequest, challengeResponseRequest])),
          responses: {
            "200": {
              description:
                '`{"result":"accept"}` | `{"result":"reject"}` | `{"result":"challenge","challenge":{"id","kind":"new-pin"|"next-code","expiresAt"}}`, each with a human `message` (Accept-Language fr or en)',
            },
            ...errors,
          },
        }),
      },
      "/v1/tokens": { post: operation("Register a token", "helpdesk", { requestBody: json(tokenRegistrationRequest) }) },
      "/v1/tokens/batch": {
        post: operation("Register up to 1000 tokens in one transaction, all or none (a serial or secret already registered refuses the list: 409)", "helpdesk", {
          requestBody: json(tokenBatchRequest),
        }),
      },
      "/v1/tokens/{serial}": { get: operation("Show a token", "auditor or support") },
      "/v1/tokens/{serial}/assign": { post: operation("Assign a token to a user (403 to a staff member whose role is not below the key's)", "helpdesk", { requestBody: json(assignRequest) }) },
      "/v1/tokens/{serial}/unassign": { post: operation("Unassign a token", "helpdesk") },
      "/v1/tokens/{serial}/disable": { post: operation("Disable a token", "support", { requestBody: json(disableRequest) }) },
      "/v1/tokens/{serial}/enable": { post: operation("Enable a token (403 for a staff member's token whose role is not below the key's)", "support") },
      "/v1/tokens/{serial}/set-time-mac": {
        post: operation(
          "Sign a token clock correction `{time, counter, fingerprint}` → `{mac}` (only for the device whose secret_fingerprint register is this token's, 409 otherwise; time within 5 s of the validator's clock; counter 1–16 above the last one the token confirmed)",
          "helpdesk",
          { requestBody: json(setTimeMacRequest) },
        ),
      },
      "/v1/tokens/{serial}/set-time-trim-mac": {
        post: operation(
          "Sign a token clock correction with a rate trim `{time, counter, trimPpb, fingerprint}` → `{mac}` (as set-time-mac; trimPpb within ±200 000, positive for a fast crystal)",
          "helpdesk",
          { requestBody: json(setTimeTrimMacRequest) },
        ),
      },
      "/v1/tokens/{serial}/clock-confirmed": {
        post: operation("The token (the device with its fingerprint) applied a signed correction `{time, counter, mac, fingerprint, trimPpb?}`: the learned offset starts over at 0; the counter, when the clock was set and to what, and the trim are recorded", "helpdesk", {
          requestBody: json(setTimeConfirmation),
        }),
      },
      "/v1/users/{user}": { get: operation("Show a user (`staffRole`: their console role, or null)", "auditor or support") },
      "/v1/users/{user}/pin-reset": { post: operation("Reset the PIN (next login is first use; 403 on a staff account whose role is not below the key's)", "support") },
      "/v1/users/{user}/unlock": { post: operation("Clear the failure count (403 on a staff account whose role is not below the key's)", "support") },
      "/v1/users/{user}/emergency": {
        post: operation("Issue an emergency password valid until 23:59 local time (409 for a user without a PIN; 403 on a staff account whose role is not below the key's)", "support"),
        delete: operation("Revoke the emergency password", "support"),
      },
      "/v1/audit": { get: operation("Read the audit log, newest first (?user=&serial=&since=&limit=)", "auditor or support") },
      "/metrics": {
        get: {
          summary: "Counters in the Prometheus text format (role: metrics; no key on the JETON_METRICS_PORT listener)",
          security: bearer,
          responses: { "200": { description: "text/plain; version=0.0.4" }, ...errors },
        },
      },
    },
  };
}
