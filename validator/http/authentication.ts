import type { FastifyRequest } from "fastify";
import type { Kysely } from "kysely";
import { identifyApiKey, roleGrants, type ApiKeyIdentity, type Role } from "../operations/api-keys.js";
import type { Actor } from "../storage/audit-log.js";
import type { Schema } from "../storage/schema.js";

export class HttpStatusError extends Error {
  constructor(
    readonly status: 401 | 403,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type Authorise = (request: FastifyRequest, roles: Role[]) => Promise<Actor>;

/**
 * The actor of a request whose bearer API key has one of `roles` (401 without a valid key, 403 with the
 * wrong role). Keys are remembered for a few seconds after a successful lookup so the validate hot path
 * does not query the key table on every request.
 */
export function apiKeyAuthoriser(db: Kysely<Schema>, cacheMillis = 10_000): Authorise {
  const cache = new Map<string, { identity: ApiKeyIdentity; until: number }>();
  async function authenticate(request: FastifyRequest): Promise<ApiKeyIdentity> {
    const header = request.headers.authorization ?? "";
    const key = header.startsWith("Bearer ") ? header.slice(7).trim() : "";
    const cached = cache.get(key);
    if (cached && cached.until > Date.now()) return cached.identity;
    const identity = key ? await identifyApiKey(db, key) : null;
    if (!identity) throw new HttpStatusError(401, "unauthorized", "a valid API key is required (Authorization: Bearer …)");
    if (cache.size > 1000) cache.clear();
    cache.set(key, { identity, until: Date.now() + cacheMillis });
    return identity;
  }
  return async (request, roles) => {
    const identity = await authenticate(request);
    if (!roleGrants(identity.role, roles)) {
      throw new HttpStatusError(403, "forbidden", `this operation needs the ${roles.join(" or ")} role; this key has ${identity.role}`);
    }
    return { id: `key:${identity.id}`, role: identity.role, source: request.ip };
  };
}
