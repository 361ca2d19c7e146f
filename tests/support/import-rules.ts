// The layout's import rules (README "Where things are", docs/LAYOUT.md), checked on the sources so
// they cannot rot silently: imports go down — jeton/ above the parts, common/ below them — production
// code never reaches into a simulator folder, and the front doors (HTTP, RADIUS, console) reach state
// only through validator/operations/ (storage types excepted).
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";

export interface ImportEdge {
  /** repository-relative path of the importing module */
  from: string;
  /** repository-relative path of the imported module (.ts), or the package name */
  to: string;
  typeOnly: boolean;
}

/** The relative imports of one module's source text (static, re-exports and dynamic). */
export function importsOf(from: string, source: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  const pattern = /(?:^|[;\s])(import|export)\s+(type\s+)?(?:[^"';]*?\sfrom\s+)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/gm;
  for (const match of source.matchAll(pattern)) {
    const specifier = match[3] ?? match[4]!;
    if (!specifier.startsWith(".")) continue;
    const to = normalize(join(dirname(from), specifier)).replace(/\.js$/, ".ts");
    edges.push({ from, to, typeOnly: match[2] !== undefined });
  }
  return edges;
}

const inside = (path: string, folder: string) => path === folder || path.startsWith(`${folder}/`);
/** The folders of the validator's front doors: each reaches state only through validator/operations/. */
const frontDoors = ["http", "radius", "console"];

const inSimFolder = (path: string) => path.split("/").includes("sim");

/** Why an import breaks the layout, or undefined when it is allowed. */
export function violation(edge: ImportEdge): string | undefined {
  const { from, to } = edge;
  const part = ["validator", "provisioner", "hardware", "common"].find((folder) => inside(from, folder));
  if (part && inside(to, "jeton")) return `${part}/ must not import the jeton program (jeton/ composes the parts, not the reverse)`;
  if (inside(from, "common") && ["validator", "provisioner", "hardware"].some((folder) => inside(to, folder))) {
    return "common/ sits below every part and imports none of them";
  }
  if (inside(from, "validator") && (inside(to, "provisioner") || inside(to, "hardware"))) return "the validator does not import another part";
  // `jeton sim` is the one production entry into the simulator: the root command registers it.
  const simCommand = from === "jeton/jeton.ts" && to === "hardware/sim/sim-command.ts";
  if (inSimFolder(to) && !inSimFolder(from) && !inside(from, "tests") && !simCommand) return "production code must not import a sim/ folder";
  const frontDoor = frontDoors.find((door) => inside(from, `validator/${door}`));
  if (frontDoor && inside(to, "validator/storage") && !edge.typeOnly) {
    return `the ${frontDoor} front door reaches state through validator/operations/ (storage types only)`;
  }
  return undefined;
}

function sourceFiles(root: string, folder: string): string[] {
  const entries = readdirSync(join(root, folder), { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts"))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)));
}

/** Every import of the repository's modules that breaks a rule, as "from → to: why". */
export function layoutViolations(root: string): string[] {
  const folders = ["jeton", "common", "validator", "provisioner", "hardware", "bench"];
  return folders
    .flatMap((folder) => sourceFiles(root, folder))
    .flatMap((file) => importsOf(file, readFileSync(join(root, file), "utf8")))
    .flatMap((edge) => {
      const why = violation(edge);
      return why ? [`${edge.from} → ${edge.to}: ${why}`] : [];
    });
}
