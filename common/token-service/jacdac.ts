// jacdac-ts ships its declarations under dist/types but its package.json "exports" map has no
// "types" condition, so `import ... from "jacdac-ts"` is untyped under NodeNext. This module loads
// the package once and types it with the package's own declarations.
import { createRequire } from "node:module";
import type * as JacdacModule from "../../node_modules/jacdac-ts/dist/types/src/jacdac.js";

export type Jacdac = typeof JacdacModule;
export type {
  JDBus,
  JDDevice,
  JDService,
  Packet,
  SensorServer,
  ButtonServer,
  JDServiceProvider,
  JDServerServiceProvider,
  Transport,
} from "../../node_modules/jacdac-ts/dist/types/src/jacdac.js";

const require = createRequire(import.meta.url);
export const jacdac: Jacdac = require("jacdac-ts");
