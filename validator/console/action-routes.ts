import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { recordStepUp } from "../operations/console-sessions.js";
import { steppedUp } from "../policy/console-session.js";
import type { Actor } from "../storage/audit-log.js";
import { allowedActions, consoleActions, isActionName, sameUser } from "./actions.js";
import { ConsoleRefusal, type ConsoleKit } from "./console-server.js";
import { consoleValidation } from "./sign-in-routes.js";

const stepUpForm = z.object({ action: z.string().max(64), fields: z.string().max(4096), passcode: z.string().max(64) });
const stepUpChallengeForm = z.object({ action: z.string().max(64), fields: z.string().max(4096), challenge: z.string().max(64), response: z.string().max(64) });

function fieldsOf(body: unknown): Record<string, string> {
  const { _csrf: _ignored, ...fields } = (body ?? {}) as Record<string, string>;
  return fields;
}

/**
 * POST /console/actions/:name runs one of consoleActions as the signed-in staff member, after the
 * role check, the "not on your own account" check and, for sensitive ones, a recent passcode (else the
 * step-up page, which then runs the same action with the same fields).
 */
export function actionRoutes(app: FastifyInstance, kit: ConsoleKit): void {
  const { ctx } = kit;
  const actorOf = (request: FastifyRequest): Actor => {
    const session = kit.session(request);
    return { id: `user:${session.staffUser}`, role: session.role, source: request.ip };
  };

  async function perform(request: FastifyRequest, reply: FastifyReply, name: string, rawFields: Record<string, string>) {
    const session = kit.session(request);
    if (!isActionName(name)) throw new ConsoleRefusal(404, (text) => text.errors.pageNotFound);
    if (!allowedActions(session.role).includes(name)) throw new ConsoleRefusal(403, (text) => text.errors.forbidden);
    const definition = consoleActions[name];
    const parsed = definition.fields.safeParse(rawFields);
    if (!parsed.success) throw new ConsoleRefusal(400, (text) => `${text.errors.invalid} ${parsed.error.issues.map((issue) => issue.path.join(".")).join(", ")}`);
    const fields = parsed.data as never;
    const subjects = await definition.subjects(ctx, fields);
    if (subjects.some((subject) => sameUser(subject, session.staffUser))) throw new ConsoleRefusal(403, (text) => text.errors.ownAccount);
    if (definition.stepUp && !steppedUp(session, ctx.now(), kit.options.limits)) {
      return kit.render(request, reply, "step-up", { action: name, fields: JSON.stringify(rawFields) });
    }
    const outcome = await definition.run(ctx, actorOf(request), fields);
    if (outcome.kind === "redirect") return reply.redirect(outcome.location, 303);
    // Shown in this response only: no-store, never in a URL, a redirect or a log.
    return kit.render(request, reply, "emergency", {
      user: outcome.user,
      groups: outcome.issued.password.match(/.{1,5}/g) ?? [],
      expiresAt: outcome.issued.expiresAt,
      lostSerial: outcome.lostSerial,
    });
  }

  app.post("/actions/:name", async (request, reply) => perform(request, reply, (request.params as { name: string }).name, fieldsOf(request.body)));

  /** A fresh passcode of the signed-in staff member, then the waiting action. */
  async function afterStepUp(request: FastifyRequest, reply: FastifyReply, action: string, fields: string, decision: Awaited<ReturnType<typeof consoleValidation>>) {
    const session = kit.session(request);
    const text = request.consoleState.text;
    if (decision.result === "accept") {
      if (!(await recordStepUp(ctx, request.consoleState.sessionId!, session.staffUser, decision.serial, request.ip))) {
        return kit.render(request, reply, "step-up", { action, fields, error: text.stepUp.refused }, 401);
      }
      session.steppedUpAt = ctx.now();
      let saved: Record<string, string>;
      try {
        saved = z.record(z.string(), z.string()).parse(JSON.parse(fields));
      } catch {
        throw new ConsoleRefusal(400, (text) => text.errors.invalid);
      }
      return perform(request, reply, action, saved);
    }
    if (decision.result === "challenge") {
      return kit.render(request, reply, "challenge", {
        formAction: "/console/step-up/challenge",
        hidden: { action, fields, challenge: decision.id },
        kind: decision.kind,
        error: decision.weakPin ? text.challenge.weakPin[decision.weakPin] : undefined,
      });
    }
    return kit.render(request, reply, "step-up", { action, fields, error: text.stepUp.refused }, 401);
  }

  app.post("/step-up", async (request, reply) => {
    const form = stepUpForm.safeParse(request.body);
    if (!form.success || !isActionName(form.data.action)) throw new ConsoleRefusal(400, (text) => text.errors.invalid);
    const session = kit.session(request);
    const decision = await consoleValidation(kit, request, actorOf(request), session.staffUser, { passcode: form.data.passcode });
    return afterStepUp(request, reply, form.data.action, form.data.fields, decision);
  });

  app.post("/step-up/challenge", async (request, reply) => {
    const form = stepUpChallengeForm.safeParse(request.body);
    if (!form.success || !isActionName(form.data.action)) throw new ConsoleRefusal(400, (text) => text.errors.invalid);
    const session = kit.session(request);
    const decision = await consoleValidation(kit, request, actorOf(request), session.staffUser, { challenge: form.data.challenge, response: form.data.response });
    return afterStepUp(request, reply, form.data.action, form.data.fields, decision);
  });
}

