// Locates the pinned DeviceScript CLI and the prebuilt firmware images.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);

/** The repository root: the nearest folder above this file holding devicescript.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "devicescript.json")) && existsSync(join(dir, "package.json"))) return dir;
    const up = resolve(dir, "..");
    if (up === dir) throw new Error("cannot find the repository root (devicescript.json)");
    dir = up;
  }
}

/** The bundled CLI module of @devicescript/cli (exports mainCli()). */
export function devsCliModule(): string {
  return require.resolve("@devicescript/cli/built/devicescript-cli.cjs", { paths: [repoRoot()] });
}

export function firmwareDistDir(): string {
  return join(repoRoot(), "firmware", "dist");
}

/** The production firmware image built by `npm run build:firmware`. */
export function firmwareImage(): string {
  const image = join(firmwareDistDir(), "jeton.devs");
  if (!existsSync(image)) throw new Error(`${image} is missing: run npm run build:firmware`);
  return image;
}

/** The Jacdac service descriptions compiled from firmware/services (for jacdac-ts). */
export function firmwareServicesJson(): string {
  return join(firmwareDistDir(), "services.json");
}

/** The CLI's own launcher script (`devs`), to run with the current Node executable. */
export function devsCliScript(): string {
  return join(dirname(require.resolve("@devicescript/cli/package.json", { paths: [repoRoot()] })), "devicescript");
}
