import { appendFileSync } from "node:fs";

/**
 * Tests record every seed, PIN, passcode and emergency password they use; at the end of the run the
 * log guard (log-guard.ts) checks that none of them appeared in any console output of the suite.
 */
export function rememberSecret(value: unknown): void {
  const file = process.env.JETON_TEST_SECRETS_FILE;
  if (!file || typeof value !== "string" || value.length < 6) return;
  appendFileSync(file, Buffer.from(value).toString("hex") + "\n");
}
