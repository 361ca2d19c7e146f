import { describe, expect, test } from "vitest";
import { importsOf, layoutViolations, violation } from "../support/import-rules.js";
import { projectFile } from "../../common/project-files.js";
import { dirname } from "node:path";

describe("import rules", () => {
  test("the repository's modules follow them", () => {
    expect(layoutViolations(dirname(projectFile("package.json")))).toEqual([]);
  });

  test("each rule catches the import it forbids", () => {
    const edge = (from: string, source: string) => importsOf(from, source)[0]!;
    expect(violation(edge("provisioner/provision.ts", 'import { CommandFailure } from "../jeton/api-client.js";'))).toMatch(/jeton program/);
    expect(violation(edge("hardware/sim/token-sim.ts", 'export { main } from "../../jeton/jeton.js";'))).toMatch(/jeton program/);
    expect(violation(edge("common/profile.ts", 'import { x } from "../validator/policy/policy.js";'))).toMatch(/below every part/);
    expect(violation(edge("validator/operations/tokens.ts", 'import { y } from "../../provisioner/seed.js";'))).toMatch(/another part/);
    expect(violation(edge("provisioner/verify.ts", 'import type { TokenClient } from "../hardware/sim/token-client.js";'))).toMatch(/sim\/ folder/);
    expect(violation(edge("jeton/serve-command.ts", 'const m = await import("../hardware/sim/token-sim.js");'))).toMatch(/sim\/ folder/);
    expect(violation(edge("validator/http/routes/portal.ts", 'import { readAudit } from "../../storage/audit-log.js";'))).toMatch(/operations/);
    expect(violation(edge("validator/console/page-routes.ts", 'import { readAudit } from "../storage/audit-log.js";'))).toMatch(/console front door/);
    expect(violation(edge("validator/radius/server.ts", 'import { appendAudit } from "../storage/audit-log.js";'))).toMatch(/radius front door/);
  });

  test("what the layout allows", () => {
    const edge = (from: string, source: string) => importsOf(from, source)[0]!;
    expect(violation(edge("validator/http/routes/portal.ts", 'import type { Actor } from "../../storage/audit-log.js";'))).toBeUndefined();
    expect(violation(edge("validator/radius/server.ts", 'import type { Actor } from "../storage/audit-log.js";'))).toBeUndefined();
    expect(violation(edge("jeton/jeton.ts", 'import { registerSimCommand } from "../hardware/sim/sim-command.js";'))).toBeUndefined();
    expect(violation(edge("hardware/sim/token-sim.ts", 'import { TokenClient } from "../../common/token-service/token-client.js";'))).toBeUndefined();
    expect(violation(edge("tests/firmware/x.test.ts", 'import { startTokenSim } from "../../hardware/sim/token-sim.js";'))).toBeUndefined();
  });
});
