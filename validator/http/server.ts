import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { SERIAL_MAX_LENGTH, USER_ID_MAX_LENGTH } from "../../common/identifiers.js";
import type { ValidatorContext } from "../context.js";
import { consoleServer, defaultConsoleOptions, type ConsoleOptions } from "../console/console-server.js";
import { roles } from "../operations/api-keys.js";
import { OperationError } from "../operations/operation-error.js";
import { apiKeyAuthoriser, HttpStatusError } from "./authentication.js";
import { openApiDocument } from "./openapi.js";
import { VerifierKeyNotLoaded } from "../secrets/verifiers.js";
import { RequestError } from "./request-error.js";
import { administrationRoutes } from "./routes/administration.js";
import { metricsRoute } from "./routes/metrics.js";
import { portalRoutes } from "./routes/portal.js";
import { tokenClockRoutes } from "./routes/token-clock.js";

export const BODY_LIMIT_BYTES = 16 * 1024;

export interface HttpOptions {
  version: string;
  /** Where request lines, validation decisions and errors go (observability/logger.ts); none without. */
  logger?: Logger;
  /** Serve HTTPS with this PEM certificate (chain) and key. */
  tls?: { cert: Buffer; key: Buffer };
  /** The support console under /console/ (defaults: 15 min idle, 10 h at most). */
  console?: ConsoleOptions;
  /** Behind a reverse proxy: take the client address and protocol from X-Forwarded-* (Fastify's trustProxy). */
  trustProxy?: boolean | string;
  /** Defaults to REQUEST_TIMEOUT_MS. */
  requestTimeoutMs?: number;
}

/**
 * Fastify's request lines, replaced: one line per request once answered, naming the route pattern
 * (never the raw URL, which may hold a user or a serial), status, duration, request id and actor.
 */
class RequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = {
      event: "request",
      method: request.method,
      route: request.routeOptions.url ?? "(no route)",
      status: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 1000) / 1000,
      ...(request.actorId && { actor: request.actorId }),
    };
    if (error) request.log.error({ ...line, err: error }, "request failed");
    else request.log.info(line, "request");
  }

  override routeNotFound(): void {}

  override defaultErrorLog(error: Error, request: FastifyRequest): void {
    request.log.error({ err: error }, "internal error");
  }
}

/**
 * How long a client may take to send a whole request, headers and body. Fastify's default (0) turns
 * Node's limit off too: a body that never finishes held its connection for ever, and a few hundred of
 * them (no key needed at the console's sign-in) took every file descriptor of the process.
 */
export const REQUEST_TIMEOUT_MS = 30_000;

/** A Fastify instance logging through `logger` (request lines above); silent without one. */
function fastifyWithLog(
  logger: Logger | undefined,
  settings: {
    bodyLimit?: number;
    routerOptions?: { maxParamLength: number };
    https?: { cert: Buffer; key: Buffer };
    trustProxy?: boolean | string;
  } = {},
  requestTimeoutMs = REQUEST_TIMEOUT_MS,
): FastifyInstance {
  // Node looks for requests past their time every connectionsCheckingInterval (30 s by default).
  const timeouts = { headersTimeout: requestTimeoutMs, connectionsCheckingInterval: Math.min(5_000, Math.ceil(requestTimeoutMs / 2)) };
  const { https, ...rest } = settings;
  // Typed as the HTTP instance whichever the server: routes see the same requests over HTTPS.
  return Fastify({
    ...rest,
    // A TLS handshake is bound by its own timeout (Node's default: 120 s), before any request begins.
    ...(https ? { https: { ...https, ...timeouts, handshakeTimeout: requestTimeoutMs } } : { http: timeouts }),
    requestTimeout: requestTimeoutMs,
    ...(logger ? { loggerInstance: logger } : { logger: false }),
    logController: new RequestLog(),
    return503OnClosing: true,
  }) as unknown as FastifyInstance;
}

export function buildHttpServer(ctx: ValidatorContext, options: HttpOptions): FastifyInstance {
  const app = fastifyWithLog(options.logger, {
    bodyLimit: BODY_LIMIT_BYTES,
    // Fastify answers 414 to a path parameter over 100 characters (decoded): every identifier the
    // schemas accept must be servable by every /v1/users/{user} and /v1/tokens/{serial} route.
    routerOptions: { maxParamLength: Math.max(USER_ID_MAX_LENGTH, SERIAL_MAX_LENGTH) },
    ...(options.tls && { https: options.tls }),
    trustProxy: options.trustProxy ?? false,
  }, options.requestTimeoutMs);
  const authorise = apiKeyAuthoriser(ctx.database, ctx.now);
  // The key is checked before the body is read: a caller without one gets 401 and costs no parsing (up
  // to BODY_LIMIT_BYTES of JSON). Each route still checks its roles.
  const anyRole = [...roles];
  app.addHook("onRequest", async (request) => {
    const route = request.routeOptions.url;
    if (route !== undefined && route.startsWith("/v1/") && route !== "/v1/openapi.json") await authorise(request, anyRole);
  });

  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    if (error instanceof RequestError) {
      return reply.code(400).send({ error: "invalid-request", message: error.message, fields: error.fields });
    }
    if (error instanceof HttpStatusError) return reply.code(error.status).send({ error: error.code, message: error.message });
    if (error instanceof OperationError) {
      const status = { "not-found": 404, conflict: 409, invalid: 400, forbidden: 403 }[error.kind];
      return reply.code(status).send({ error: error.kind === "invalid" ? "invalid-request" : error.kind, message: error.message });
    }
    const status = (error as FastifyError).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      // Oversized and unparsable bodies are malformed requests like any other.
      return reply.code(status === 415 ? 415 : 400).send({ error: "invalid-request", message: error.message, fields: [] });
    }
    request.log.error({ err: error }, "internal error");
    return reply.code(500).send({ error: "internal", message: "internal error" });
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: "not-found", message: "no such endpoint" }));

  // time: the validator's clock (the one codes are checked against), so the provisioner sets tokens from it
  app.get("/health", async (_request, reply) => {
    const outdatedBy = ctx.verifiers.outdatedBy();
    // Out of a load balancer's rotation until restarted with the keys of the rotation (it decides nothing).
    if (outdatedBy !== null) return reply.code(503).send({ status: "outdated", message: new VerifierKeyNotLoaded(outdatedBy).message });
    return { status: "ok", time: new Date(ctx.now()).toISOString() };
  });
  app.get("/v1/openapi.json", async () => openApiDocument(options.version));
  portalRoutes(app, ctx, authorise);
  administrationRoutes(app, ctx, authorise);
  tokenClockRoutes(app, ctx, authorise);
  app.register((scope) => consoleServer(scope, ctx, options.console ?? defaultConsoleOptions), {
    prefix: "/console",
  });
  metricsRoute(app, ctx, authorise);
  return app;
}

/** The separate metrics listener (JETON_METRICS_HOST, JETON_METRICS_PORT): GET /metrics without a key. */
export function buildMetricsServer(ctx: ValidatorContext, options: { logger?: Logger }): FastifyInstance {
  const app = fastifyWithLog(options.logger);
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: "not-found", message: "only /metrics here" }));
  metricsRoute(app, ctx, "no-key");
  return app;
}
