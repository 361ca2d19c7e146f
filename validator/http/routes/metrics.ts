import type { FastifyInstance } from "fastify";
import type { ValidatorContext } from "../../context.js";
import type { Authorise } from "../authentication.js";

/**
 * GET /metrics in Prometheus' text format: with a `metrics` API key on the main listener, or with no
 * key on the separate metrics listener (JETON_METRICS_PORT), which the operator binds where only the
 * scraper reaches it. Counters only: no user, serial or secret is ever a label.
 */
export function metricsRoute(app: FastifyInstance, ctx: ValidatorContext, authorise: Authorise | "no-key"): void {
  app.get("/metrics", async (request, reply) => {
    if (authorise !== "no-key") await authorise(request, ["metrics"]);
    const { contentType, text } = await ctx.metrics.exposition();
    return reply.type(contentType).send(text);
  });
}
