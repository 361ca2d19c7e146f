import fastifyCookie from "@fastify/cookie";
import fastifyFormbody from "@fastify/formbody";
import fastifyView from "@fastify/view";
import { Eta } from "eta";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { ValidatorContext } from "../context.js";
import { languageOf } from "../messages.js";
import { resumeSession, type ConsoleSession } from "../operations/console-sessions.js";
import { OperationError } from "../operations/operation-error.js";
import { defaultConsoleSessionLimits, secondsLeft, type ConsoleSessionLimits } from "../policy/console-session.js";
import { projectFile } from "../../common/project-files.js";
import { allowedActions } from "./actions.js";
import { actionRoutes } from "./action-routes.js";
import { catalogue, consoleLanguages, type Catalogue, type ConsoleLanguage } from "./catalogue.js";
import { sameOriginRequest } from "./csrf.js";
import { pageRoutes } from "./page-routes.js";
import { SignInLimit } from "./sign-in-limit.js";
import { signInRoutes } from "./sign-in-routes.js";
import { timeFormatter } from "./time-format.js";

export interface ConsoleOptions {
  limits: ConsoleSessionLimits;
  /** Failed sign-ins allowed per source address within the window. */
  signInFailuresPerAddress: number;
  signInWindowSeconds: number;
}

export const defaultConsoleOptions: ConsoleOptions = {
  limits: defaultConsoleSessionLimits,
  signInFailuresPerAddress: 20,
  signInWindowSeconds: 15 * 60,
};

/** __Host-: Secure, Path=/, no Domain, so no other site or subdomain can set or read them. */
export const cookieNames = { session: "__Host-jeton-session", signInToken: "__Host-jeton-sign-in", language: "__Host-jeton-language" } as const;
export const cookieOptions = { path: "/", secure: true, httpOnly: true, sameSite: "strict" } as const;

const securityHeaders = {
  "content-security-policy": "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  "x-frame-options": "DENY",
  "cache-control": "no-store",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
};

/** What one request knows about its caller, filled in before any route runs. */
export interface ConsoleRequestState {
  language: ConsoleLanguage;
  text: Catalogue;
  session: ConsoleSession | null;
  sessionId: string | null;
  /** Why the caller's session just ended (shown on the sign-in page). */
  ended: string | null;
}

declare module "fastify" {
  interface FastifyRequest {
    consoleState: ConsoleRequestState;
  }
  interface FastifyContextConfig {
    /** Pages open before sign-in (sign-in itself, assets, the language switch). */
    public?: boolean;
  }
}

export class ConsoleRefusal extends Error {
  constructor(
    readonly status: 400 | 403 | 404,
    readonly explain: (text: Catalogue) => string,
  ) {
    super("refused");
  }
}

export interface ConsoleKit {
  ctx: ValidatorContext;
  options: ConsoleOptions;
  signInLimit: SignInLimit;
  /** Renders a page with the layout's common data (language, session, navigation, CSRF token). */
  render(request: FastifyRequest, reply: FastifyReply, template: string, data?: Record<string, unknown>, status?: number): Promise<FastifyReply>;
  /** The token forms must carry: the session's, or before sign-in the sign-in cookie's (set when missing). */
  formToken(request: FastifyRequest, reply: FastifyReply): string;
  session(request: FastifyRequest): ConsoleSession;
}

function asset(path: string, type: string) {
  return { body: readFileSync(path), type };
}

/** The support console under /console/: server-rendered pages, htmx for partial updates, no build step. */
export async function consoleServer(app: FastifyInstance, ctx: ValidatorContext, options: ConsoleOptions): Promise<void> {
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody, { bodyLimit: 16 * 1024 });
  await app.register(fastifyView, {
    engine: { eta: new Eta({ views: projectFile("validator/console/templates"), cache: true }) },
    root: projectFile("validator/console/templates"),
    production: true,
  });
  app.decorateRequest("consoleState", null as unknown as ConsoleRequestState);

  const require = createRequire(import.meta.url);
  const assets: Record<string, { body: Buffer; type: string }> = {
    "console.css": asset(projectFile("validator/console/assets/console.css"), "text/css; charset=utf-8"),
    "console.js": asset(projectFile("validator/console/assets/console.js"), "text/javascript; charset=utf-8"),
    "favicon.svg": asset(projectFile("validator/console/assets/favicon.svg"), "image/svg+xml"),
    "htmx.min.js": asset(require.resolve("htmx.org/dist/htmx.min.js"), "text/javascript; charset=utf-8"),
  };

  app.addHook("onRequest", async (request, reply) => {
    for (const [name, value] of Object.entries(securityHeaders)) reply.header(name, value);
    const chosen = request.cookies[cookieNames.language];
    const header = request.headers["accept-language"];
    const language: ConsoleLanguage = consoleLanguages.includes(chosen as ConsoleLanguage)
      ? (chosen as ConsoleLanguage)
      : /\b(fr|en)/i.test(header ?? "")
        ? languageOf(header)
        : "fr";
    const state: ConsoleRequestState = { language, text: catalogue(language, ctx.policy), session: null, sessionId: null, ended: null };
    request.consoleState = state;
    const sessionId = request.cookies[cookieNames.session];
    if (sessionId) {
      const found = await resumeSession(ctx, sessionId, options.limits, request.ip);
      if (found.state === "active") {
        state.session = found.session;
        state.sessionId = sessionId;
      } else {
        reply.clearCookie(cookieNames.session, cookieOptions);
        if (found.state === "ended") state.ended = found.reason;
      }
    }
  });

  app.addHook("preHandler", async (request, reply) => {
    const state = request.consoleState;
    // Without a session nothing but the public pages answers (a redirect changes nothing).
    if (!request.routeOptions.config.public && state.session === null) {
      const location = `/console/sign-in${state.ended ? `?ended=${state.ended}` : ""}`;
      if (request.headers["hx-request"]) return reply.header("hx-redirect", location).code(204).send();
      return reply.redirect(location, 303);
    }
    if (request.method === "POST") {
      const expected = state.session?.csrfToken ?? request.cookies[cookieNames.signInToken];
      const body = (request.body ?? {}) as Record<string, unknown>;
      if (!sameOriginRequest(request, expected, body._csrf)) throw new ConsoleRefusal(403, (text) => text.errors.csrf);
    }
  });

  const kit: ConsoleKit = {
    ctx,
    options,
    signInLimit: new SignInLimit(options.signInFailuresPerAddress, options.signInWindowSeconds),
    formToken(request, reply) {
      const session = request.consoleState.session;
      if (session) return session.csrfToken;
      let token = request.cookies[cookieNames.signInToken];
      if (!token) {
        token = randomBytes(32).toString("base64url");
        reply.setCookie(cookieNames.signInToken, token, cookieOptions);
        request.cookies[cookieNames.signInToken] = token;
      }
      return token;
    },
    session(request) {
      const session = request.consoleState.session;
      if (!session) throw new ConsoleRefusal(403, (text) => text.errors.forbidden);
      return session;
    },
    async render(request, reply, template, data = {}, status = 200) {
      const state = request.consoleState;
      const now = ctx.now();
      return reply.code(status).view(template, {
        t: state.text,
        language: state.language,
        session: state.session,
        allowed: state.session ? allowedActions(state.session.role) : [],
        csrf: kit.formToken(request, reply),
        time: timeFormatter(ctx.policy.timeZone, state.language, state.text, now),
        timeZone: ctx.policy.timeZone,
        path: request.url.split("?")[0],
        secondsLeft: state.session ? secondsLeft(state.session, now, options.limits) : 0,
        warningSeconds: options.limits.warningSeconds,
        stepUpMinutes: options.limits.stepUpSeconds / 60,
        ...data,
      });
    },
  };

  app.setErrorHandler(async (error: FastifyError | Error, request, reply) => {
    const text = request.consoleState?.text ?? catalogue("fr", ctx.policy);
    if (!request.consoleState) request.consoleState = { language: "fr", text, session: null, sessionId: null, ended: null };
    if (error instanceof ConsoleRefusal) return kit.render(request, reply, "error", { message: error.explain(text) }, error.status);
    if (error instanceof OperationError) {
      const status = { "not-found": 404, conflict: 409, invalid: 400, forbidden: 403 }[error.kind];
      const title = { "not-found": text.errors.notFound, conflict: text.errors.conflict, invalid: text.errors.invalid, forbidden: text.errors.forbidden }[error.kind];
      return kit.render(request, reply, "error", { message: title, detail: error.message }, status);
    }
    const status = (error as FastifyError).statusCode;
    if (status !== undefined && status >= 400 && status < 500) return kit.render(request, reply, "error", { message: text.errors.invalid }, 400);
    // Through the request's logger, so the line carries the request id of the request line.
    request.log.error({ err: error }, "internal error");
    return kit.render(request, reply, "error", { message: "Internal error / Erreur interne" }, 500);
  });
  app.setNotFoundHandler(async (request, reply) => kit.render(request, reply, "error", { message: request.consoleState.text.errors.pageNotFound }, 404));

  app.get("/assets/:name", { config: { public: true } }, async (request, reply) => {
    const name = (request.params as { name: string }).name;
    // Own names only: "constructor" or "__proto__" would otherwise find Object.prototype's.
    const found = Object.hasOwn(assets, name) ? assets[name] : undefined;
    if (!found) throw new ConsoleRefusal(404, (text) => text.errors.pageNotFound);
    return reply.type(found.type).send(found.body);
  });
  app.post("/language", { config: { public: true } }, async (request, reply) => {
    const body = request.body as { language?: string; return?: string };
    const language = consoleLanguages.find((candidate) => candidate === body.language);
    if (language) reply.setCookie(cookieNames.language, language, { ...cookieOptions, maxAge: 365 * 24 * 3600 });
    return reply.redirect(localPath(body.return), 303);
  });
  signInRoutes(app, kit);
  actionRoutes(app, kit);
  pageRoutes(app, kit);
}

/**
 * Only our own pages as redirect targets (never another site, never a protocol-relative URL), in
 * printable ASCII: a Location header cannot hold a character above U+00FF (an attacker review got a 500
 * from "/console/€"), and our own links are percent-encoded.
 */
export function localPath(path: string | undefined): string {
  return typeof path === "string" && /^\/console\/[\x21-\x5b\x5d-\x7e]*$/.test(path) ? path : "/console/";
}
