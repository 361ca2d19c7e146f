#!/usr/bin/env node
// Builds the firmware from the repository root (`npm run build:firmware`):
//  1. generates src/profile.g.ts from the token profile (devicescript.json), the single source of
//     truth for algorithm, digits, period, serial format and clock policy;
//  2. compiles src/main.ts and every test/*.vmtest.ts with the pinned DeviceScript CLI;
//  3. copies each bytecode image to dist/ (devs writes every build to the same
//     .devicescript/bin/bytecode.devs, so images must be copied before the next build).
//
// Options: [entry] builds one entry only ("main" or a test name);
//   --profile <file> --out <dir> build the main image for another token profile in a temporary copy
//   of the project (used by tests/firmware/profile-build.test.ts; firmware/ itself is untouched).
import { execFileSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const sourceDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const rootDir = resolve(sourceDir, "..");

const args = process.argv.slice(2);
function option(name) {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const value = args[i + 1];
  args.splice(i, 2);
  return value;
}
const profileFile = option("--profile");
const outDir = option("--out");
const only = args[0];
// a build for another profile happens in a scratch copy, so the checked-out project never changes
const firmwareDir = outDir ? mkdtempSync(join(tmpdir(), "jeton-fw-build-")) : sourceDir;
if (outDir) for (const part of ["src", "services", "test", "devsconfig.json"]) cpSync(join(sourceDir, part), join(firmwareDir, part), { recursive: true });
const distDir = outDir ? resolve(outDir) : join(sourceDir, "dist");

const profile = JSON.parse(readFileSync(profileFile ? resolve(profileFile) : join(rootDir, "devicescript.json"), "utf8"));
const pkg = JSON.parse(readFileSync(join(rootDir, "package.json"), "utf8"));

function fail(message) {
  console.error(`build:firmware: ${message}`);
  if (outDir) rmSync(firmwareDir, { recursive: true, force: true });
  process.exit(1);
}

const ALGORITHMS = ["SHA1", "SHA256"];
if (!ALGORITHMS.includes(profile.algorithm)) fail(`unsupported algorithm ${profile.algorithm}`);
if (![6, 7, 8].includes(profile.digits)) fail(`digits must be 6..8, got ${profile.digits}`);
if (!Number.isInteger(profile.period) || profile.period < 1) fail(`bad period ${profile.period}`);
if (!Number.isInteger(profile.t0) || profile.t0 < 0) fail(`bad t0 ${profile.t0}`);
for (const a of ALGORITHMS) {
  const n = profile.secretLength?.[a];
  if (!Number.isInteger(n) || n < 16 || n > 64) fail(`bad secretLength.${a}: ${n}`);
}
const maxCorrection = profile.clock?.maxForwardCorrectionSeconds;
if (!Number.isInteger(maxCorrection) || maxCorrection < 0) fail("bad clock.maxForwardCorrectionSeconds");
if (!profile.boards?.[profile.board]) fail(`board ${profile.board} is not listed in boards`);

/**
 * DeviceScript has no RegExp, so the serial pattern is compiled here into a list of
 * (allowed characters, count) steps. Only the subset a serial format needs is accepted:
 * ^ literal | [a-zA-Z0-9 ranges] with optional {n} ... $. Anything else fails the build loudly.
 */
function compileSerialPattern(pattern) {
  const m = /^\^(.*)\$$/.exec(pattern);
  if (!m) fail(`serialNumber.pattern must be anchored with ^...$: ${pattern}`);
  const body = m[1];
  const steps = [];
  let i = 0;
  while (i < body.length) {
    let chars;
    if (body[i] === "[") {
      const close = body.indexOf("]", i);
      if (close < 0) fail(`unterminated [ in ${pattern}`);
      const cls = body.slice(i + 1, close);
      chars = "";
      for (let j = 0; j < cls.length; j++) {
        if (cls[j + 1] === "-" && j + 2 < cls.length) {
          for (let c = cls.charCodeAt(j); c <= cls.charCodeAt(j + 2); c++) chars += String.fromCharCode(c);
          j += 2;
        } else chars += cls[j];
      }
      i = close + 1;
    } else if (/[A-Za-z0-9_-]/.test(body[i])) {
      chars = body[i];
      i++;
    } else fail(`unsupported construct '${body[i]}' in serial pattern ${pattern}`);
    let count = 1;
    const q = /^\{(\d+)\}/.exec(body.slice(i));
    if (q) {
      count = Number(q[1]);
      i += q[0].length;
    }
    steps.push({ chars, count });
  }
  return steps;
}
const serialSteps = compileSerialPattern(profile.serialNumber.pattern);
// self-check: the example must match both the JS RegExp and the compiled steps
const example = profile.serialNumber.example;
const stepsMatch = (s) => {
  let pos = 0;
  for (const st of serialSteps) for (let k = 0; k < st.count; k++, pos++) if (!st.chars.includes(s[pos] ?? "\0")) return false;
  return pos === s.length;
};
if (!new RegExp(profile.serialNumber.pattern).test(example) || !stepsMatch(example))
  fail(`serial example ${example} does not match the compiled pattern`);

const generated = `// GENERATED by firmware/scripts/build.mjs from devicescript.json. Do not edit; not committed.
export const PROFILE_ID = ${JSON.stringify(profile.profile)}
export const PROFILE_ALGORITHM = ${JSON.stringify(profile.algorithm)}
export const PROFILE_DIGITS = ${profile.digits}
export const PROFILE_PERIOD = ${profile.period}
export const PROFILE_T0 = ${profile.t0}
export const SECRET_LENGTH_SHA1 = ${profile.secretLength.SHA1}
export const SECRET_LENGTH_SHA256 = ${profile.secretLength.SHA256}
export const SERIAL_PATTERN = ${JSON.stringify(profile.serialNumber.pattern)}
/** Serial format compiled from SERIAL_PATTERN: each step allows \`count\` characters out of \`chars\`. */
export const SERIAL_STEPS: { chars: string; count: number }[] = ${JSON.stringify(serialSteps)}
export const MAX_FORWARD_CORRECTION_SECONDS = ${maxCorrection}
export const BOARD: string = ${JSON.stringify(profile.board)}
export const FIRMWARE_VERSION = ${JSON.stringify(pkg.version)}
`;
writeFileSync(join(firmwareDir, "src", "profile.g.ts"), generated);

// Only the selected board's drivers go into the image (bytecode budget: 32 KB). A board may have
// battery power-mode variants, chosen with boards[board].powerMode (default "stay-on"):
// src/boards/<board>.<powerMode>.ts.
const powerMode = profile.boards[profile.board].powerMode ?? "stay-on";
const boardModule = powerMode === "stay-on" ? profile.board : `${profile.board}.${powerMode}`;
if (!existsSync(join(firmwareDir, "src", "boards", `${boardModule}.ts`)))
  fail(`no firmware/src/boards/${boardModule}.ts for board ${profile.board} with powerMode ${powerMode}`);
writeFileSync(
  join(firmwareDir, "src", "board.g.ts"),
  `// GENERATED by firmware/scripts/build.mjs from devicescript.json "board". Do not edit; not committed.\nexport { startBoard } from "./boards/${boardModule}"\n`,
);

const require = createRequire(import.meta.url);
// the CLI's own launcher script, run with this Node (no shell, no PATH lookup)
const devsCli = join(dirname(require.resolve("@devicescript/cli/package.json", { paths: [rootDir] })), "devicescript");

function devsBuild(entry, outName) {
  execFileSync(process.execPath, [devsCli, "build", entry], {
    cwd: firmwareDir,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const binDir = join(firmwareDir, ".devicescript", "bin");
  mkdirSync(dirname(join(distDir, outName)), { recursive: true });
  copyFileSync(join(binDir, "bytecode.devs"), join(distDir, outName));
  copyFileSync(join(binDir, "bytecode-dbg.json"), join(distDir, outName.replace(/\.devs$/, ".dbg.json")));
}

mkdirSync(distDir, { recursive: true });
if (!only || only === "main" || outDir) {
  devsBuild("src/main.ts", "jeton.devs");
  copyFileSync(join(firmwareDir, ".devicescript", "services.json"), join(distDir, "services.json"));
}
if (!outDir)
  for (const f of readdirSync(join(firmwareDir, "test")).filter((f) => f.endsWith(".vmtest.ts")).sort()) {
    const name = f.replace(/\.vmtest\.ts$/, "");
    if (only && only !== name) continue;
    devsBuild(`test/${f}`, `test/${name}.devs`);
  }
if (outDir) rmSync(firmwareDir, { recursive: true, force: true });
console.log(`build:firmware: images in ${distDir}`);
