import Fastify, { type FastifyError, type FastifyInstance } from "fastify";
import type { ValidatorContext } from "../context.js";
import { consoleServer, defaultConsoleOptions, type ConsoleOptions } from "../console/console-server.js";
import { OperationError } from "../operations/operation-error.js";
import { apiKeyAuthoriser, HttpStatusError } from "./authentication.js";
import { openApiDocument } from "./openapi.js";
import { RequestError } from "./request-error.js";
import { administrationRoutes } from "./routes/administration.js";
import { portalRoutes } from "./routes/portal.js";
import { tokenClockRoutes } from "./routes/token-clock.js";

export const BODY_LIMIT_BYTES = 16 * 1024;

export interface HttpOptions {
  version: string;
  /** Called with each unexpected error; never given request bodies. */
  logError?: (error: Error) => void;
  /** The support console under /console/ (defaults: 15 min idle, 10 h at most). */
  console?: ConsoleOptions;
  /** Behind a reverse proxy: take the client address and protocol from X-Forwarded-* (Fastify's trustProxy). */
  trustProxy?: boolean | string;
}

export function buildHttpServer(ctx: ValidatorContext, options: HttpOptions): FastifyInstance {
  const app = Fastify({ bodyLimit: BODY_LIMIT_BYTES, logger: false, return503OnClosing: true, trustProxy: options.trustProxy ?? false });
  const authorise = apiKeyAuthoriser(ctx.database.db);

  app.setErrorHandler((error: FastifyError | Error, _request, reply) => {
    if (error instanceof RequestError) {
      return reply.code(400).send({ error: "invalid-request", message: error.message, fields: error.fields });
    }
    if (error instanceof HttpStatusError) return reply.code(error.status).send({ error: error.code, message: error.message });
    if (error instanceof OperationError) {
      const status = { "not-found": 404, conflict: 409, invalid: 400 }[error.kind];
      return reply.code(status).send({ error: error.kind === "invalid" ? "invalid-request" : error.kind, message: error.message });
    }
    const status = (error as FastifyError).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      // Oversized and unparsable bodies are malformed requests like any other.
      return reply.code(status === 415 ? 415 : 400).send({ error: "invalid-request", message: error.message, fields: [] });
    }
    options.logError?.(error);
    return reply.code(500).send({ error: "internal", message: "internal error" });
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: "not-found", message: "no such endpoint" }));

  // time: the validator's clock (the one codes are checked against), so the provisioner sets tokens from it
  app.get("/health", async () => ({ status: "ok", time: new Date(ctx.now()).toISOString() }));
  app.get("/v1/openapi.json", async () => openApiDocument(options.version));
  portalRoutes(app, ctx, authorise);
  administrationRoutes(app, ctx, authorise);
  tokenClockRoutes(app, ctx, authorise);
  app.register((scope) => consoleServer(scope, ctx, options.console ?? defaultConsoleOptions, options.logError), { prefix: "/console" });
  return app;
}
