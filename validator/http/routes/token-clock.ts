// A signed clock correction for a token (`jeton resync`): the validator holds the seed, so it signs
// the set-time command — operations/token-clock.ts says when and how.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { ValidatorContext } from "../../context.js";
import { signTokenClock } from "../../operations/token-clock.js";
import type { Authorise } from "../authentication.js";
import { parseRequest } from "../request-error.js";
import { serialParams } from "../schemas.js";

const setTimeMacRequest = z.strictObject({
  time: z.number().int().min(0).max(2 ** 40),
  counter: z.number().int().min(1).max(2 ** 32 - 1),
});

export function tokenClockRoutes(app: FastifyInstance, ctx: ValidatorContext, authorise: Authorise): void {
  app.post("/v1/tokens/:serial/set-time-mac", async (request) => {
    const actor = await authorise(request, ["helpdesk"]);
    const { serial } = parseRequest(serialParams, request.params, "path");
    const body = parseRequest(setTimeMacRequest, request.body, "body");
    return signTokenClock(ctx, actor, serial, body);
  });
}
