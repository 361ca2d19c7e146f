import { observedValidation } from "../observability/validation-events.js";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { recordAudit } from "../operations/audit.js";
import { closeSession, openSession } from "../operations/console-sessions.js";
import { userId } from "../../common/identifiers.js";
import { staffDoor } from "../operations/staff.js";
import { respondToChallenge, validatePasscode } from "../operations/validation.js";
import type { Decision } from "../policy/outcome.js";
import type { Actor } from "../storage/audit-log.js";
import { secondsLeft } from "../policy/console-session.js";
import { cookieNames, cookieOptions, localPath, type ConsoleKit } from "./console-server.js";
import type { SignInAttempt } from "./sign-in-limit.js";

const signInForm = z.object({ user: z.string().max(128), passcode: z.string().max(64) });
const challengeForm = z.object({ user: z.string().max(128), challenge: z.string().max(64), response: z.string().max(64) });

/** Who checks a passcode on the console before anyone is signed in. */
const consoleActor = (request: FastifyRequest): Actor => ({ id: "console", role: "console", source: request.ip });

/**
 * Every passcode the console checks (sign-in, challenges, step-up) goes through here, with the staff
 * door: the one place to count console validations (metrics).
 */
export async function consoleValidation(
  kit: ConsoleKit,
  request: FastifyRequest,
  actor: Actor,
  user: string,
  answer: { passcode: string } | { challenge: string; response: string },
): Promise<Decision> {
  return observedValidation(request.log, kit.ctx.metrics, "console", user, () =>
    "passcode" in answer
      ? validatePasscode(kit.ctx, actor, user, answer.passcode, staffDoor)
      : respondToChallenge(kit.ctx, actor, user, answer.challenge, answer.response, staffDoor),
  );
}

/** Sign-in with identifier + PIN + code (first use and next-code as pages of it), and sign-out. */
export function signInRoutes(app: FastifyInstance, kit: ConsoleKit): void {
  const { ctx } = kit;
  const showSignIn = (request: FastifyRequest, reply: FastifyReply, data: Record<string, unknown> = {}, status = 200) =>
    kit.render(request, reply, "sign-in", { user: "", ...data }, status);

  app.get("/sign-in", { config: { public: true } }, async (request, reply) => {
    if (request.consoleState.session) return reply.redirect("/console/", 303);
    const ended = (request.query as { ended?: string }).ended;
    const notices = request.consoleState.text.signIn.ended;
    return showSignIn(request, reply, { notice: ended !== undefined && Object.hasOwn(notices, ended) ? notices[ended as keyof typeof notices] : undefined });
  });

  /** After the passcode or a challenge answer (`user` normalised): a session, the next challenge page, or the generic refusal. */
  async function conclude(request: FastifyRequest, reply: FastifyReply, user: string, attempt: SignInAttempt, decision: Decision) {
    const text = request.consoleState.text;
    if (decision.result === "challenge") {
      kit.signInLimit.forgive(attempt);
      return kit.render(request, reply, "challenge", {
        formAction: "/console/sign-in/challenge",
        hidden: { user, challenge: decision.id },
        kind: decision.kind,
        error: decision.weakPin ? text.challenge.weakPin[decision.weakPin] : undefined,
      });
    }
    const opened = decision.result === "accept" ? await openSession(ctx, user, decision.serial, request.ip) : null;
    if (opened === null) {
      const now = ctx.now();
      if (kit.signInLimit.failed(attempt, now)) {
        await recordAudit(ctx, consoleActor(request), now, { event: "console.sign-in", result: "rate-limited", detail: { address: request.ip } });
      }
      return showSignIn(request, reply, { user, error: text.signIn.refused }, 401);
    }
    kit.signInLimit.forgive(attempt);
    // A new id at every sign-in; a session the browser still held ends.
    const previous = request.consoleState;
    if (previous.session && previous.sessionId) await closeSession(ctx, previous.sessionId, previous.session, request.ip);
    reply.setCookie(cookieNames.session, opened.id, cookieOptions);
    reply.clearCookie(cookieNames.signInToken, cookieOptions);
    return reply.redirect("/console/", 303);
  }

  /** The attempt, counted from now on; null (and the refusal page sent) when its source is at the limit. */
  async function admitted(request: FastifyRequest, reply: FastifyReply, user: string): Promise<SignInAttempt | null> {
    const attempt = kit.signInLimit.admit(request.ip, ctx.now());
    if (attempt === null) await showSignIn(request, reply, { user, error: request.consoleState.text.signIn.rateLimited }, 429);
    return attempt;
  }

  app.post("/sign-in", { config: { public: true } }, async (request, reply) => {
    const form = signInForm.safeParse(request.body);
    const user = form.success ? form.data.user.trim() : "";
    const attempt = await admitted(request, reply, user);
    if (attempt === null) return reply;
    // The identifier rule of every door, checked before folding: no other character becomes a staff member's name.
    const named = userId.safeParse(user);
    if (!form.success || !named.success || form.data.passcode === "") {
      kit.signInLimit.forgive(attempt);
      return showSignIn(request, reply, { user, error: request.consoleState.text.signIn.refused }, 401);
    }
    return conclude(request, reply, named.data, attempt, await consoleValidation(kit, request, consoleActor(request), named.data, { passcode: form.data.passcode }));
  });

  app.post("/sign-in/challenge", { config: { public: true } }, async (request, reply) => {
    const form = challengeForm.safeParse(request.body);
    const user = form.success ? form.data.user : "";
    const attempt = await admitted(request, reply, user);
    if (attempt === null) return reply;
    const named = userId.safeParse(user);
    if (!form.success || !named.success) {
      kit.signInLimit.forgive(attempt);
      return showSignIn(request, reply, { error: request.consoleState.text.signIn.refused }, 401);
    }
    return conclude(request, reply, named.data, attempt, await consoleValidation(kit, request, consoleActor(request), named.data, { challenge: form.data.challenge, response: form.data.response }));
  });

  app.post("/sign-out", async (request, reply) => {
    const state = request.consoleState;
    await closeSession(ctx, state.sessionId!, kit.session(request), request.ip);
    reply.clearCookie(cookieNames.session, cookieOptions);
    return reply.redirect("/console/sign-in?ended=signed-out", 303);
  });

  /** The idle warning's "extend" button: any signed-in request starts the idle time over. */
  app.post("/session/extend", async (request, reply) => {
    if (request.headers.accept?.includes("application/json")) return { secondsLeft: secondsLeft(kit.session(request), ctx.now(), kit.options.limits) };
    return reply.redirect(localPath((request.body as { return?: string }).return), 303);
  });
}
