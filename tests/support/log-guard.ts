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
      const leaked = [...secrets].filter((hex) => log.includes(Buffer.from(hex, "hex").toString()));
      console.log(`log guard: ${secrets.size} secrets checked against ${log.length} characters of test output: ${leaked.length} found`);
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
