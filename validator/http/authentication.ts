import type { FastifyRequest } from "fastify";
import { identifyApiKey, recordApiKeyUse, roleGrants, type ApiKeyIdentity, type Role } from "../operations/api-keys.js";
import type { Actor } from "../storage/audit-log.js";
import type { Database } from "../storage/database.js";

declare module "fastify" {
  interface FastifyRequest {
    /** who the request's API key belongs to, once authorised (for the request's log line) */
    actorId?: string;
  }
}

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
 * How long an instance trusts a key it has looked up. A revoked key is refused by every instance within
 * this time; meanwhile the validate hot path queries the key table once per key and period, not per request.
 */
export const KEY_RECHECK_MILLIS = 2_000;
/** "Last used" tells operators which keys are alive: a write per minute and key is enough (not one per request). */
const LAST_USE_RESOLUTION_MILLIS = 60_000;

/**
 * The actor of a request whose bearer API key has one of `roles` (401 without a valid, unrevoked,
 * unexpired key; 403 with the wrong role).
 */
export function apiKeyAuthoriser(database: Database, now: () => number): Authorise {
  const checked = new Map<string, { identity: ApiKeyIdentity; until: number }>();
  const useRecordedAt = new Map<string, number>();
  async function authenticate(request: FastifyRequest): Promise<ApiKeyIdentity> {
    const header = request.headers.authorization ?? "";
    // The scheme is case-insensitive (RFC 9110 §11.1).
    const key = /^bearer /i.test(header) ? header.slice(7).trim() : "";
    const at = now();
    const remembered = checked.get(key);
    let identity = remembered && remembered.until > performance.now() ? remembered.identity : null;
    if (identity === null && key) {
      identity = await identifyApiKey(database.db, key, at);
      if (checked.size > 1000) checked.clear();
      if (identity) checked.set(key, { identity, until: performance.now() + KEY_RECHECK_MILLIS });
    }
    // A remembered key is still refused the moment it expires.
    if (identity === null || (identity.expiresAt !== null && identity.expiresAt <= at)) {
      throw new HttpStatusError(401, "unauthorized", "a valid API key is required (Authorization: Bearer …)");
    }
    const recorded = useRecordedAt.get(identity.id);
    if (recorded === undefined || at - recorded >= LAST_USE_RESOLUTION_MILLIS) {
      useRecordedAt.set(identity.id, at);
      await recordApiKeyUse(database, identity.id, at);
    }
    return identity;
  }
  // A request is authenticated once (before its body is read, see server.ts); its route then checks roles.
  const authenticated = new WeakMap<FastifyRequest, ApiKeyIdentity>();
  return async (request, roles) => {
    let identity = authenticated.get(request);
    if (identity === undefined) {
      identity = await authenticate(request);
      authenticated.set(request, identity);
    }
    if (!roleGrants(identity.role, roles)) {
      throw new HttpStatusError(403, "forbidden", `this operation needs the ${roles.join(" or ")} role; this key has ${identity.role}`);
    }
    request.actorId = `key:${identity.id}`;
    return { id: request.actorId, role: identity.role, source: request.ip };
  };
}
