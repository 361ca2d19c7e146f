// Builds the firmware image on first use. `npm install` builds it already (the `prepare` script),
// but a clone whose firmware/dist was removed, or an install run with --ignore-scripts, would
// otherwise fail deep inside the simulator with ENOENT: build it once, saying so, or explain what
// is missing.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { firmwareDistDir, repoRoot } from "../../common/token-service/devs-cli.js";

const require = createRequire(import.meta.url);

export interface FirmwareBuildOptions {
  /** where the images go; defaults to firmware/dist (other folders get a build of devicescript.json in a scratch copy) */
  distDir?: string;
  /** receives the one-line notice before a build (default: stderr) */
  notice?: (line: string) => void;
  /** the DeviceScript toolchain's package to look for (tests pass a missing one) */
  toolchainPackage?: string;
}

/** Returns the folder holding jeton.devs and services.json, building them first when they are missing. */
export function ensureFirmwareBuilt(options: FirmwareBuildOptions = {}): string {
  const root = repoRoot();
  const distDir = options.distDir ?? firmwareDistDir();
  const missing = ["jeton.devs", "services.json"].filter((f) => !existsSync(join(distDir, f)));
  if (missing.length === 0) return distDir;
  const toolchain = options.toolchainPackage ?? "@devicescript/cli";
  try {
    require.resolve(`${toolchain}/package.json`, { paths: [root] });
  } catch {
    throw new Error(
      `the token firmware is not built (${missing.join(", ")} missing in ${distDir}) and the DeviceScript ` +
        `toolchain (${toolchain}) is not installed: run \`npm install\` in ${root}, then \`npm run build:firmware\``,
    );
  }
  (options.notice ?? ((line) => process.stderr.write(line + "\n")))(
    `jeton: building the token firmware once (${missing.join(", ")} missing in ${distDir}; ~5-20 s)…`,
  );
  const script = join(root, "firmware", "scripts", "build.mjs");
  const args = options.distDir === undefined ? ["main"] : ["--profile", join(root, "devicescript.json"), "--out", distDir];
  try {
    execFileSync(process.execPath, [script, ...args], { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
  } catch (e) {
    const stderr = String((e as { stderr?: Buffer }).stderr ?? "").trim();
    throw new Error(`building the token firmware failed (node firmware/scripts/build.mjs): ${stderr || String(e)}`);
  }
  return distDir;
}
