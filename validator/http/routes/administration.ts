import type { FastifyInstance } from "fastify";
import type { ValidatorContext } from "../../context.js";
import { issueEmergencyPassword, revokeEmergencyPassword } from "../../operations/emergency-passwords.js";
import { assignToken, disableToken, enableToken, getToken, registerToken, registerTokens, unassignToken } from "../../operations/tokens.js";
import { getUser, resetPin, unlockUser } from "../../operations/users.js";
import { readAuditLog } from "../../operations/audit.js";
import type { Authorise } from "../authentication.js";
import { parseRequest } from "../request-error.js";
import {
  assignRequest,
  auditQuery,
  disableRequest,
  emptyRequest,
  serialParams,
  tokenBatchRequest,
  tokenRegistrationRequest,
  userParams,
} from "../schemas.js";

/** Room for MAX_BATCH_TOKENS registrations with 64-byte seeds in hex (about 300 bytes each). */
export const TOKEN_BATCH_BODY_LIMIT_BYTES = 512 * 1024;

/** Help desk (tokens), support (users, emergency passwords) and auditor (audit log; users and tokens read only) endpoints. */
export function administrationRoutes(app: FastifyInstance, ctx: ValidatorContext, authorise: Authorise): void {
  const serialOf = (params: unknown) => parseRequest(serialParams, params, "path").serial;
  const userOf = (params: unknown) => parseRequest(userParams, params, "path").user;

  app.post("/v1/tokens", async (request, reply) => {
    const actor = await authorise(request, ["helpdesk"]);
    const body = parseRequest(tokenRegistrationRequest, request.body, "body");
    const token = await registerToken(ctx, actor, {
      serial: body.serial,
      secret: (body.secret ?? body.secretHex)!,
      algorithm: body.algorithm,
      digits: body.digits,
      period: body.period,
    });
    return reply.code(201).send(token);
  });
  // A PSKC import: every token or none. Its own body limit, as a file of keys outgrows 16 KiB.
  app.post("/v1/tokens/batch", { bodyLimit: TOKEN_BATCH_BODY_LIMIT_BYTES }, async (request, reply) => {
    const actor = await authorise(request, ["helpdesk"]);
    const body = parseRequest(tokenBatchRequest, request.body, "body");
    const tokens = await registerTokens(
      ctx,
      actor,
      body.tokens.map((token) => ({ serial: token.serial, secret: (token.secret ?? token.secretHex)!, algorithm: token.algorithm, digits: token.digits, period: token.period })),
    );
    return reply.code(201).send({ tokens });
  });
  app.get("/v1/tokens/:serial", async (request) => {
    await authorise(request, ["auditor", "support"]);
    return getToken(ctx, serialOf(request.params));
  });
  app.post("/v1/tokens/:serial/assign", async (request) => {
    const actor = await authorise(request, ["helpdesk"]);
    const serial = serialOf(request.params);
    return assignToken(ctx, actor, serial, parseRequest(assignRequest, request.body, "body").user);
  });
  app.post("/v1/tokens/:serial/unassign", async (request) => {
    const actor = await authorise(request, ["helpdesk"]);
    const serial = serialOf(request.params);
    parseRequest(emptyRequest, request.body, "body");
    return unassignToken(ctx, actor, serial);
  });
  app.post("/v1/tokens/:serial/disable", async (request) => {
    const actor = await authorise(request, ["support"]);
    const serial = serialOf(request.params);
    return disableToken(ctx, actor, serial, parseRequest(disableRequest, request.body, "body").reason);
  });
  app.post("/v1/tokens/:serial/enable", async (request) => {
    const actor = await authorise(request, ["support"]);
    const serial = serialOf(request.params);
    parseRequest(emptyRequest, request.body, "body");
    return enableToken(ctx, actor, serial);
  });

  app.get("/v1/users/:user", async (request) => {
    await authorise(request, ["auditor", "support"]);
    return getUser(ctx, userOf(request.params));
  });
  app.post("/v1/users/:user/pin-reset", async (request) => {
    const actor = await authorise(request, ["support"]);
    const user = userOf(request.params);
    parseRequest(emptyRequest, request.body, "body");
    return resetPin(ctx, actor, user);
  });
  app.post("/v1/users/:user/unlock", async (request) => {
    const actor = await authorise(request, ["support"]);
    const user = userOf(request.params);
    parseRequest(emptyRequest, request.body, "body");
    return unlockUser(ctx, actor, user);
  });
  app.post("/v1/users/:user/emergency", async (request, reply) => {
    const actor = await authorise(request, ["support"]);
    const user = userOf(request.params);
    parseRequest(emptyRequest, request.body, "body");
    reply.header("cache-control", "no-store");
    return issueEmergencyPassword(ctx, actor, user);
  });
  app.delete("/v1/users/:user/emergency", async (request, reply) => {
    const actor = await authorise(request, ["support"]);
    await revokeEmergencyPassword(ctx, actor, userOf(request.params));
    return reply.code(204).send();
  });

  app.get("/v1/audit", async (request) => {
    await authorise(request, ["auditor", "support"]);
    const query = parseRequest(auditQuery, request.query, "query");
    const since = query.since === undefined ? undefined : Date.parse(query.since);
    return { entries: await readAuditLog(ctx, { ...query, since }) };
  });
}
