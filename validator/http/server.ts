import Fastify, { type FastifyError, type FastifyInstance } from "fastify";
import { SERIAL_MAX_LENGTH, USER_ID_MAX_LENGTH } from "../../common/identifiers.js";
import type { ValidatorContext } from "../context.js";
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
  /** Serve HTTPS with this PEM certificate (chain) and key. */
  tls?: { cert: Buffer; key: Buffer };
}

export function buildHttpServer(ctx: ValidatorContext, options: HttpOptions): FastifyInstance {
  // Typed as the HTTP instance whichever the server: routes see the same requests over HTTPS.
  const app = Fastify({
    bodyLimit: BODY_LIMIT_BYTES,
    logger: false,
    return503OnClosing: true,
    // Fastify answers 414 to a path parameter over 100 characters (decoded): every identifier the
    // schemas accept must be servable by every /v1/users/{user} and /v1/tokens/{serial} route.
    routerOptions: { maxParamLength: Math.max(USER_ID_MAX_LENGTH, SERIAL_MAX_LENGTH) },
    ...(options.tls && { https: options.tls }),
  }) as unknown as FastifyInstance;
  const authorise = apiKeyAuthoriser(ctx.database, ctx.now);

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
  return app;
}
