import type { FastifyRequest } from "fastify";
import { constantTimeEqual } from "../secrets/constant-time.js";

/**
 * A state-changing request must come from our own pages: the browser says so (Sec-Fetch-Site,
 * Origin, when it sends them) and the form carries the token we put in it (the session's
 * synchronizer token, or before sign-in the value of a __Host- cookie only our origin can set).
 */
export function sameOriginRequest(request: FastifyRequest, expectedToken: string | undefined, formToken: unknown): boolean {
  const site = request.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin") return false;
  const origin = request.headers.origin;
  // Under Referrer-Policy: no-referrer, browsers send "Origin: null" with their own form posts; that
  // says nothing, so it passes only when Sec-Fetch-Site vouches for the request.
  const opaque = origin === "null" && site === "same-origin";
  if (origin !== undefined && !opaque && origin !== `${request.protocol}://${request.host}`) return false;
  return expectedToken !== undefined && typeof formToken === "string" && formToken.length > 0 && constantTimeEqual(formToken, expectedToken);
}
