import type { FastifyInstance } from "fastify";
import type { ValidatorContext } from "../../context.js";
import { observedValidation } from "../../observability/validation-events.js";
import { respondToChallenge, validatePasscode } from "../../operations/validation.js";
import type { Decision } from "../../policy/outcome.js";
import type { Actor } from "../../storage/audit-log.js";
import type { Authorise } from "../authentication.js";
import { languageOf, messages } from "../../messages.js";
import { challengeResponseRequest, passcodeRequest } from "../schemas.js";
import { parseRequest } from "../request-error.js";

/** Where a passcode enters: POST /v1/validate, a passcode or the answer to a challenge. */
export function portalRoutes(app: FastifyInstance, ctx: ValidatorContext, authorise: Authorise): void {
  app.post("/v1/validate", async (request) => {
    const actor = await authorise(request, ["portal"]);
    const body = request.body;
    const attempt =
      body !== null && typeof body === "object" && "challenge" in body
        ? { kind: "challenge" as const, ...parseRequest(challengeResponseRequest, body, "body") }
        : { kind: "passcode" as const, ...parseRequest(passcodeRequest, body, "body") };
    const decision = await observedValidation(request.log, ctx.metrics, "http", attempt.user, () =>
      attempt.kind === "challenge" ? answerChallenge(ctx, actor, attempt) : checkPasscode(ctx, actor, attempt),
    );
    return present(decision, messages(languageOf(request.headers["accept-language"]), ctx.policy));
  });
}

function checkPasscode(ctx: ValidatorContext, actor: Actor, body: { user: string; passcode: string }) {
  return validatePasscode(ctx, actor, body.user, body.passcode);
}

function answerChallenge(ctx: ValidatorContext, actor: Actor, body: { user: string; challenge: string; response: string }) {
  return respondToChallenge(ctx, actor, body.user, body.challenge, body.response);
}

/** Every reject, whatever its reason, has the same body. */
function present(decision: Decision, text: ReturnType<typeof messages>) {
  switch (decision.result) {
    case "accept":
      return { result: "accept", message: text.accept };
    case "reject":
      return { result: "reject", message: text.reject };
    case "challenge":
      return {
        result: "challenge",
        challenge: { id: decision.id, kind: decision.kind, expiresAt: new Date(decision.expiresAt).toISOString() },
        message: decision.weakPin ? text.weakPin[decision.weakPin] : decision.kind === "new-pin" ? text.newPin : text.nextCode,
        ...(decision.weakPin && { reason: decision.weakPin }),
      };
  }
}
