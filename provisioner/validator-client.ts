// What the provisioner asks of the validator, over an admin API caller it is given (the `jeton`
// program's client, configured from JETON_URL and JETON_API_KEY; its CommandFailure carries the
// documented exit codes). Seeds go out once, in the registration request; the API never returns them.
import { CommandFailure, exitCodes } from "../common/failure.js";
import type { TokenAlgorithm } from "./token-profile.js";

export interface TokenRecord {
  serial: string;
  user: string | null;
  algorithm: string;
  digits: number;
  period: number;
  status: "active" | "disabled";
  offsetSteps: number;
  /** When the token's clock was last set (ISO; null: unknown), to what, and the trim it applies (ppb). */
  clock?: { setAt: string | null; setTo: number | null; trimPpb: number };
}

/** A call to the validator's admin API: the parsed JSON answer, or a CommandFailure. */
export type ApiCall = (method: "GET" | "POST" | "DELETE", path: string, body?: unknown) => Promise<unknown>;

/** How the provisioner reaches the validator: implemented by the `jeton` program's admin API client. */
export interface AdminApi {
  readonly call: ApiCall;
  /** The body of the validator's unauthenticated GET /health. */
  health(): Promise<string>;
}

export interface ValidatorClient {
  readonly call: ApiCall;
  /** the registered token, or undefined when the validator does not know the serial */
  findToken(serial: string): Promise<TokenRecord | undefined>;
  registerToken(registration: { serial: string; seed: Uint8Array; algorithm: TokenAlgorithm; digits: number; period: number }): Promise<TokenRecord>;
  assignToken(serial: string, user: string): Promise<TokenRecord>;
  /** The validator's clock (ISO time from /health), or undefined if this validator does not report it. */
  serverTime(): Promise<{ unixMillis: number; roundTripMillis: number } | undefined>;
  /** Proves JETON_URL is reachable and JETON_API_KEY has the help-desk role, before any token is touched. */
  checkAccess(): Promise<void>;
}

export function validatorClient(api: AdminApi): ValidatorClient {
  const { call } = api;
  const path = (serial: string) => `/v1/tokens/${encodeURIComponent(serial)}`;
  return {
    call,
    async findToken(serial) {
      try {
        return (await call("GET", path(serial))) as TokenRecord;
      } catch (error) {
        if (error instanceof CommandFailure && (error.body as { error?: string } | undefined)?.error === "not-found") return undefined;
        throw error;
      }
    },
    async registerToken(registration) {
      return (await call("POST", "/v1/tokens", {
        serial: registration.serial,
        secretHex: Buffer.from(registration.seed).toString("hex"),
        algorithm: registration.algorithm,
        digits: registration.digits,
        period: registration.period,
      })) as TokenRecord;
    },
    async assignToken(serial, user) {
      return (await call("POST", `${path(serial)}/assign`, { user })) as TokenRecord;
    },
    async serverTime() {
      const started = Date.now();
      const health = await api.health();
      const roundTripMillis = Date.now() - started;
      let body: { time?: string } = {};
      try {
        body = JSON.parse(health) as { time?: string };
      } catch {
        // not a Jeton /health answer: no server time
      }
      const unixMillis = body.time ? Date.parse(body.time) : Number.NaN;
      if (!Number.isFinite(unixMillis)) return undefined;
      return { unixMillis: unixMillis + roundTripMillis / 2, roundTripMillis };
    },
    async checkAccess() {
      // An empty registration is refused as malformed (400) for a help-desk key, with 401/403 for any
      // other key: the role is proven without registering anything.
      try {
        await call("POST", "/v1/tokens", {});
      } catch (error) {
        if (error instanceof CommandFailure && error.exitCode === exitCodes.refused) {
          if ((error.body as { error?: string } | undefined)?.error === "invalid-request") return;
          throw new CommandFailure(`the validator refused the API key (${error.message}): JETON_API_KEY must be a helpdesk key`, exitCodes.refused, error.body);
        }
        throw error;
      }
      throw new CommandFailure("the validator accepted an empty token registration: is JETON_URL a Jeton validator?", exitCodes.refused);
    },
  };
}
