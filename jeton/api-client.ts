import { z } from "zod";
import { CommandFailure, exitCodes } from "../common/failure.js";
import type { AdminApi } from "../provisioner/validator-client.js";


const clientEnvironment = z.object({
  JETON_URL: z.url({ protocol: /^https?$/, error: "must be an http(s) URL such as http://127.0.0.1:8080" }),
  JETON_API_KEY: z.string().min(1, "is required: create one with `jeton keys create --role helpdesk`"),
});

/** A caller of the validator's API configured from JETON_URL and JETON_API_KEY. */
export function apiClient(environment: NodeJS.ProcessEnv = process.env) {
  const parsed = clientEnvironment.safeParse({ JETON_URL: environment.JETON_URL ?? "", JETON_API_KEY: environment.JETON_API_KEY ?? "" });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`).join("; ");
    throw new CommandFailure(`invalid client configuration: ${problems}`, exitCodes.usage);
  }
  const base = parsed.data.JETON_URL.replace(/\/+$/, "");
  const key = parsed.data.JETON_API_KEY;

  return async function call(method: "GET" | "POST" | "DELETE", path: string, body?: unknown): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body !== undefined && { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new CommandFailure(`the validator at ${base} is unreachable (${cause})`, exitCodes.unreachable);
    }
    const text = await response.text();
    const parsedBody: unknown = text ? JSON.parse(text) : null;
    if (!response.ok) {
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

/** The admin API as the provisioner asks for it (its base URL and the authenticated caller). */
export function adminApi(environment: NodeJS.ProcessEnv = process.env): AdminApi {
  const call = apiClient(environment);
  return { baseUrl: (environment.JETON_URL ?? "").replace(/\/+$/, ""), call };
}
