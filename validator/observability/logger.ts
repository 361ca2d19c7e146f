// The server's log: one JSON line per event on stdout (pino, Fastify's own logger), human-readable
// when stdout is a terminal. Whatever is logged, these fields are replaced before it is written, so a
// seed, PIN, passcode, emergency password, API key or Authorization header never reaches the log even
// if a future log call passes a whole request or body.
import { createRequire } from "node:module";
import { pino, type DestinationStream, type Logger } from "pino";
import type pretty from "pino-pretty";

export const logLevels = ["debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof logLevels)[number];

// A challenge id is one too: whoever holds an open new-pin challenge's id may choose the user's PIN; and
// a token's secret_fingerprint, which a clock correction takes as proof that the device is at hand.
const secretFields = ["authorization", "passcode", "pin", "newPin", "secret", "secretHex", "password", "response", "challenge", "key", "apiKey", "fingerprint"];

/**
 * Where a secret field can sit in a log call: at the top level, in an object holding a request's parts
 * (a body, headers, query, parameters, an attempt, an error) and in a whole request's body and headers.
 * Named rather than wildcards: pino's wildcard paths cost ~50 µs per line (two lines per validation),
 * these ~3 µs.
 */
const secretHolders = ["body", "headers", "query", "params", "attempt", "err", "req", "request", "reply", "res"];
export const redactedPaths = secretFields.flatMap((field) => [
  field,
  ...secretHolders.map((holder) => `${holder}.${field}`),
  ...["req", "request"].flatMap((request) => ["body", "headers", "query"].map((part) => `${request}.${part}.${field}`)),
]);

/**
 * To `destination`, or to stdout: pretty on a terminal, JSON lines otherwise. The lines are written
 * asynchronously, in writes of 4 KiB or every 200 ms, whichever comes first (a write per line cost a busy
 * server a fifth of its time); pino flushes what is left when the process exits.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: redactedPaths, censor: "[redacted]" } };
  if (destination) return pino(options, destination);
  if (process.stdout.isTTY) {
    // loaded only for a terminal: every `jeton` command loads this module, few of them log to a terminal
    const prettyStream = createRequire(import.meta.url)("pino-pretty") as typeof pretty;
    return pino(options, prettyStream({ sync: true, colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" }));
  }
  return pino(options, pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 200 }));
}
