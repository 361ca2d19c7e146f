import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Global setup: a file for the secrets tests use (secret-registry.ts) and one for everything the suite
 * logs (vitest's onConsoleLog, see vitest.config.ts). At teardown any secret found in the logs fails the run.
 */
export function setup(): () => void {
  const directory = mkdtempSync(join(tmpdir(), "jeton-log-guard-"));
  process.env.JETON_TEST_SECRETS_FILE = join(directory, "secrets");
  process.env.JETON_TEST_LOG_FILE = join(directory, "log");
  return () => {
    try {
      const read = (file: string) => (existsSync(file) ? readFileSync(file, "utf8") : "");
      const log = read(process.env.JETON_TEST_LOG_FILE!);
      const secrets = new Set(read(process.env.JETON_TEST_SECRETS_FILE!).split("\n").filter(Boolean));
      // A digits-only secret (PIN, code, passcode) counts where it stands as a number of its own: the
      // servers' JSON lines are full of timestamps and durations in which any 6 digits turn up by chance.
      const appears = (secret: string) =>
        /^\d+$/.test(secret) ? new RegExp(`(?<!\\d)${secret}(?!\\d)`).test(log) : log.includes(secret);
      const leaked = [...secrets].filter((hex) => appears(Buffer.from(hex, "hex").toString()));
      console.log(`log guard: ${secrets.size} secrets checked against ${log.length} characters of test output: ${leaked.length} found`);
      for (const hex of leaked) {
        // Where it leaked, with the secret itself masked: enough to find the line that printed it.
        const secret = Buffer.from(hex, "hex").toString();
        const at = /^\d+$/.test(secret) ? log.search(new RegExp(`(?<!\\d)${secret}(?!\\d)`)) : log.indexOf(secret);
        const context = log.slice(Math.max(0, at - 300), at + secret.length + 100).split(secret).join("<secret>");
        console.log(`log guard: a secret of ${secret.length} characters appeared here:\n${context}`);
      }
      if (leaked.length > 0) {
        // vitest reports an error thrown here but still exits 0: set the exit code as well.
        process.exitCode = 1;
        throw new Error(`${leaked.length} seeds, PINs, passcodes or passwords appeared in the suite's log output`);
      }
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  };
}

export function captureLog(text: string): void {
  const file = process.env.JETON_TEST_LOG_FILE;
  if (file) appendFileSync(file, text + "\n");
}
