// Token clock corrections for `jeton resync`: the validator signs a set-time for the token, then the
// provisioner confirms the token applied it. set-time-trim-mac signs a SetTimeTrim (time and clock trim). The rules live in operations/token-clock.ts.
import type { FastifyInstance } from "fastify";
import type { ValidatorContext } from "../../context.js";
import { confirmSetTime, signSetTime } from "../../operations/token-clock.js";
import type { Authorise } from "../authentication.js";
import { parseRequest } from "../request-error.js";
import { serialParams, setTimeConfirmation, setTimeMacRequest, setTimeTrimMacRequest } from "../schemas.js";

export function tokenClockRoutes(app: FastifyInstance, ctx: ValidatorContext, authorise: Authorise): void {
  app.post("/v1/tokens/:serial/set-time-mac", async (request) => {
    const actor = await authorise(request, ["helpdesk"]);
    const { serial } = parseRequest(serialParams, request.params, "path");
    return signSetTime(ctx, actor, serial, parseRequest(setTimeMacRequest, request.body, "body"));
  });
  app.post("/v1/tokens/:serial/set-time-trim-mac", async (request) => {
    const actor = await authorise(request, ["helpdesk"]);
    const { serial } = parseRequest(serialParams, request.params, "path");
    return signSetTime(ctx, actor, serial, parseRequest(setTimeTrimMacRequest, request.body, "body"));
  });
  app.post("/v1/tokens/:serial/clock-confirmed", async (request) => {
    const actor = await authorise(request, ["helpdesk"]);
    const { serial } = parseRequest(serialParams, request.params, "path");
    return confirmSetTime(ctx, actor, serial, parseRequest(setTimeConfirmation, request.body, "body"));
  });
}
