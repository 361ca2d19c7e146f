// An attacker review: a console sign-in is decided in one transaction (the validation) and its session
// opened in the next. A change that ends the staff member's sessions (a PIN reset because the PIN was
// seen, a stolen token disabled) and commits in between found no session to end, and the one opened
// right after lived on, stepped up. The interleaving is forced: the change runs just after the
// sign-in's validation has committed, before the console opens the session. Both tests failed before
// the fix.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { defaultConsoleOptions } from "../../validator/console/console-server.js";
import { disableToken } from "../../validator/operations/tokens.js";
import { resetPin } from "../../validator/operations/users.js";
import type { AttemptStore } from "../../validator/storage/attempt-store.js";
import { readAudit } from "../../validator/storage/audit-log.js";
import { rememberSecret } from "../support/secret-registry.js";
import { dialects, startValidator, testDatabase, type RunningValidator } from "../support/test-validator.js";
import { ConsoleVisitor } from "./support/console-client.js";
import { signIn, softToken, staffMember } from "./support/console-fixture.js";

const helpdesk = { id: "user:hannah", role: "helpdesk", source: "192.0.2.7" };

describe.each(dialects)("a console sign-in racing what ends its sessions on %s", (dialect) => {
  let v: RunningValidator;
  let database: Awaited<ReturnType<typeof testDatabase>>;
  let base: string;
  /** Run once, right after the next accepted attempt of `user` has committed. */
  let afterAccept: { user: string; run: () => Promise<unknown> } | null = null;

  beforeAll(async () => {
    database = await testDatabase(dialect);
    v = await startValidator(database.location, { console: { ...defaultConsoleOptions, signInFailuresPerAddress: 1000 } });
    base = v.url.replace("127.0.0.1", "localhost");
    const attempts: AttemptStore = v.ctx.database.attempts;
    const run = attempts.run.bind(attempts);
    (v.ctx.database as { attempts: AttemptStore }).attempts = {
      async run(request, decide) {
        const result = await run(request, decide);
        const hook = afterAccept;
        if (hook && request.user === hook.user && (result as { decision?: { result?: string } }).decision?.result === "accept") {
          afterAccept = null;
          await hook.run();
        }
        return result;
      },
    };
  });
  afterAll(async () => {
    await v?.close();
    await database?.drop();
  });

  async function sessionsOf(user: string) {
    return v.ctx.database.db.selectFrom("console_sessions").select("staff_user").where("staff_user", "=", user).execute();
  }

  test("a PIN reset committed between the validation and the session: no session opens", async () => {
    const pin = "947316";
    rememberSecret(pin);
    const sam = await staffMember(v, "sam", "support", "RACE0001");
    await signIn(new ConsoleVisitor(base), "sam", sam, pin, true);
    const attacker = new ConsoleVisitor(base);
    await attacker.get("/console/sign-in");
    afterAccept = { user: "sam", run: () => resetPin(v.ctx, helpdesk, "sam") };
    const signedIn = await attacker.post("/console/sign-in", { user: "sam", passcode: pin + sam.nextCode() });
    expect(afterAccept).toBeNull();
    expect(signedIn.status).toBe(401);
    expect(await sessionsOf("sam")).toEqual([]);
    const [latest] = await readAudit(v.ctx.database.db, { user: "sam", event: "console.sign-in", limit: 1 });
    expect(latest).toMatchObject({ result: "refused", detail: { reason: "pin-reset" } });
  });

  test("the token disabled as stolen between the validation and the session, a spare still active: no session opens", async () => {
    const pin = "583016";
    rememberSecret(pin);
    const tina = await staffMember(v, "tina", "support", "RACE0002");
    await signIn(new ConsoleVisitor(base), "tina", tina, pin, true);
    await v.ctx.database.db.deleteFrom("console_sessions").where("staff_user", "=", "tina").execute();
    await softToken(v, "RACE0003", "tina");
    const thief = new ConsoleVisitor(base);
    await thief.get("/console/sign-in");
    afterAccept = { user: "tina", run: () => disableToken(v.ctx, helpdesk, "RACE0002", "stolen") };
    const signedIn = await thief.post("/console/sign-in", { user: "tina", passcode: pin + tina.nextCode() });
    expect(afterAccept).toBeNull();
    expect(signedIn.status).toBe(401);
    expect(await sessionsOf("tina")).toEqual([]);
    const [latest] = await readAudit(v.ctx.database.db, { user: "tina", event: "console.sign-in", limit: 1 });
    expect(latest).toMatchObject({ result: "refused", detail: { reason: "token-taken-away" } });
  });
});
