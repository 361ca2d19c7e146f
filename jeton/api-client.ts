import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { z } from "zod";
import { CommandFailure, exitCodes } from "../common/failure.js";
import { isLoopback } from "../common/loopback.js";
import type { AdminApi } from "../provisioner/validator-client.js";


const clientEnvironment = z.object({
  JETON_URL: z.url({ protocol: /^https?$/, error: "must be an http(s) URL such as http://127.0.0.1:8080" }),
  JETON_API_KEY: z.string().min(1, "is required: create one with `jeton keys create --role helpdesk`"),
});

function invalidConfiguration(problems: string): CommandFailure {
  return new CommandFailure(`invalid client configuration: ${problems}`, exitCodes.usage);
}

export interface ValidatorResponse {
  status: number;
  statusText: string;
  text: string;
}

/** Certificate errors a private CA causes until the client is told about it (JETON_CA_FILE). */
const untrustedCertificate = /^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_UNTRUSTED)$/;

/**
 * Sends requests to the validator at JETON_URL. An https:// URL is verified against the system's CAs, or
 * only against the CA certificates in the file JETON_CA_FILE names (a private CA, a self-signed server).
 */
export function validatorTransport(environment: NodeJS.ProcessEnv = process.env) {
  const base = (environment.JETON_URL ?? "").replace(/\/+$/, "");
  let ca: Buffer | undefined;
  if (environment.JETON_CA_FILE) {
    try {
      ca = readFileSync(environment.JETON_CA_FILE);
    } catch (error) {
      throw invalidConfiguration(`JETON_CA_FILE ${environment.JETON_CA_FILE} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  }
  return function send(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<ValidatorResponse> {
    const url = new URL(`${base}${path}`);
    const request = url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const outgoing = request(url, { method, headers, ...(ca && { ca }) }, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", reject);
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, statusText: response.statusMessage ?? "", text: Buffer.concat(chunks).toString("utf8") }),
        );
      });
      outgoing.on("error", (error: NodeJS.ErrnoException) => {
        const cause = error.code ?? error.message;
        reject(
          new CommandFailure(
            untrustedCertificate.test(cause)
              ? `the validator at ${base} presented a certificate this client does not trust (${cause}): set JETON_CA_FILE to the CA certificate file`
              : `the validator at ${base} is unreachable (${cause})`,
            exitCodes.unreachable,
          ),
        );
      });
      outgoing.end(body);
    });
  };
}

/** A caller of the validator's API configured from JETON_URL, JETON_API_KEY and JETON_CA_FILE. */
export function apiClient(environment: NodeJS.ProcessEnv = process.env) {
  const parsed = clientEnvironment.safeParse({ JETON_URL: environment.JETON_URL ?? "", JETON_API_KEY: environment.JETON_API_KEY ?? "" });
  if (!parsed.success) {
    throw invalidConfiguration(parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`).join("; "));
  }
  // The key would cross the network in clear: as the server refuses to listen so (validator/http/transport.ts).
  const url = new URL(parsed.data.JETON_URL);
  if (url.protocol === "http:" && !isLoopback(url.hostname) && environment.JETON_ALLOW_PLAIN_HTTP !== "1") {
    throw invalidConfiguration(
      `JETON_URL ${url.origin} is plain HTTP to another machine, which would carry the API key in clear: use its https:// address ` +
        "(JETON_CA_FILE for a private CA), or set JETON_ALLOW_PLAIN_HTTP=1 if the network between is trusted",
    );
  }
  const send = validatorTransport(environment);
  const key = parsed.data.JETON_API_KEY;

  return async function call(method: "GET" | "POST" | "DELETE", path: string, body?: unknown): Promise<unknown> {
    const response = await send(
      method,
      path,
      { authorization: `Bearer ${key}`, ...(body !== undefined && { "content-type": "application/json" }) },
      body === undefined ? undefined : JSON.stringify(body),
    );
    const parsedBody: unknown = response.text ? JSON.parse(response.text) : null;
    if (response.status < 200 || response.status > 299) {
      const problem = parsedBody as { message?: string; fields?: { field: string; message: string }[] } | null;
      const fields = problem?.fields?.map((field) => `${field.field}: ${field.message}`).join("; ");
      throw new CommandFailure(
        `${response.status} ${problem?.message ?? response.statusText}${fields ? ` (${fields})` : ""}`,
        exitCodes.refused,
        parsedBody,
      );
    }
    return parsedBody;
  };
}

export type ApiCall = ReturnType<typeof apiClient>;

/** The admin API as the provisioner asks for it (the authenticated caller and the open /health). */
export function adminApi(environment: NodeJS.ProcessEnv = process.env): AdminApi {
  const call = apiClient(environment);
  const send = validatorTransport(environment);
  return { call, health: async () => (await send("GET", "/health")).text };
}
