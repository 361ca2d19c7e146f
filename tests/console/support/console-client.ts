// A console visitor without a browser: fetch with its own cookie jar, reading forms' CSRF tokens the
// way a browser would submit them (same Origin, Sec-Fetch-Site: same-origin).
import { rememberSecret } from "../../support/secret-registry.js";

export interface ConsoleResponse {
  status: number;
  html: string;
  location: string | null;
  headers: Headers;
}

export class ConsoleVisitor {
  readonly cookies = new Map<string, string>();
  /** The _csrf of the last page read. */
  csrf = "";

  /** `base` should be http://localhost:PORT: browsers keep __Host- (Secure) cookies there. */
  constructor(readonly base: string) {}

  private remember(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(";");
      const [name, ...value] = pair!.split("=");
      const expired = attributes.some((attribute) => /^\s*(max-age=0|expires=thu, 01 jan 1970)/i.test(attribute));
      if (expired) this.cookies.delete(name!.trim());
      else this.cookies.set(name!.trim(), value.join("="));
    }
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  async request(method: "GET" | "POST", path: string, form?: Record<string, string>, headers: Record<string, string> = {}): Promise<ConsoleResponse> {
    for (const field of ["passcode", "response"]) rememberSecret(form?.[field]);
    const response = await fetch(this.base + path, {
      method,
      redirect: "manual",
      headers: {
        cookie: this.cookieHeader(),
        ...(method === "POST" && { origin: this.base, "sec-fetch-site": "same-origin", "content-type": "application/x-www-form-urlencoded" }),
        ...headers,
      },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    this.remember(response);
    const html = await response.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(html);
    if (token) this.csrf = token[1]!;
    return { status: response.status, html, location: response.headers.get("location"), headers: response.headers };
  }

  get(path: string, headers?: Record<string, string>) {
    return this.request("GET", path, undefined, headers);
  }

  /** Posts a form of the current page (its CSRF token added). */
  post(path: string, form: Record<string, string> = {}, headers?: Record<string, string>) {
    return this.request("POST", path, { _csrf: this.csrf, ...form }, headers);
  }

  /** Follows a 303 like a browser. */
  async follow(response: ConsoleResponse): Promise<ConsoleResponse> {
    return response.location ? this.get(response.location) : response;
  }
}

/** The value of a hidden field in a page. */
export function hiddenField(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!match) throw new Error(`no hidden field ${name} in the page`);
  return match[1]!;
}
