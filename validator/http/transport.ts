import { readFileSync } from "node:fs";
import { isLoopback } from "../../common/loopback.js";
import { ConfigurationError, type ServerConfig } from "../config.js";

export interface Transport {
  /** PEM certificate (chain) and key: the server speaks HTTPS. */
  tls?: { cert: Buffer; key: Buffer };
  /** Said at start-up when plain HTTP leaves this machine. */
  warning?: string;
}

/**
 * HTTPS when a certificate and key are configured (read now, at start-up). Otherwise plain HTTP, which
 * carries API keys and passcodes in clear: allowed on loopback, and elsewhere only when the operator
 * says a TLS proxy stands in front (JETON_ALLOW_PLAIN_HTTP=1), and then said at start-up.
 */
export function serverTransport(config: Pick<ServerConfig, "host" | "tls" | "allowPlainHttp">): Transport {
  if (config.tls) {
    const read = (variable: string, file: string) => {
      try {
        return readFileSync(file);
      } catch (error) {
        throw new ConfigurationError(`${variable} ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      }
    };
    return { tls: { cert: read("JETON_TLS_CERT_FILE", config.tls.certFile), key: read("JETON_TLS_KEY_FILE", config.tls.keyFile) } };
  }
  if (isLoopback(config.host)) return {};
  if (!config.allowPlainHttp) {
    throw new ConfigurationError(
      `HOST=${config.host} is not a loopback address and plain HTTP would carry API keys and passcodes in clear: ` +
        "set JETON_TLS_CERT_FILE and JETON_TLS_KEY_FILE to serve HTTPS, or JETON_ALLOW_PLAIN_HTTP=1 if a TLS proxy terminates HTTPS in front of this server",
    );
  }
  return { warning: `serving plain HTTP on ${config.host} (JETON_ALLOW_PLAIN_HTTP=1): only a TLS proxy in front of it may be reachable from the network` };
}
