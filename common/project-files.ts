import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * A file at the repository root (devicescript.json, package.json), found by walking up from this module
 * so the same lookup works from the sources (tests) and from the compiled dist/ tree.
 */
export function projectFile(name: string, start = dirname(fileURLToPath(import.meta.url))): string {
  for (let directory = start; ; directory = dirname(directory)) {
    const candidate = join(directory, name);
    if (existsSync(candidate)) return candidate;
    if (dirname(directory) === directory) throw new Error(`${name} was not found above ${start}`);
  }
}
