// An attacker review: a console sign-in is decided in one transaction (the validation) and its session
// opened in the next. A change that ends the staff member's sessions (a PIN reset because the PIN was
// seen, a stolen token disabled) and commits in between found no session to end, and the one opened
// right after lived on, stepped up. The interleaving is forced: the change runs just after the
// sign-in's validation has committed, before the console opens the session. A second review did the
// same with a first PIN (the new-pin answer) and with a step-up. Each test failed before its fix.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { defaultConsoleOptions } from "../../validator/console/console-server.js";
import { disableToken } from "../../validator/operations/tokens.js";
import { resetPin } from "../../validator/operations/users.js";
import type { AttemptStore } from "../../validator/storage/attempt-store.js";
import { readAudit } from "../../validator/storage/audit-log.js";
import { rememberSecret } from "../support/secret-registry.js";
import { dialects, startValidator, testDatabase, type RunningValidator } from "../support/test-validator.js";
import { ConsoleVisitor, hiddenField } from "./support/console-client.js";
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
  test("a first PIN (the new-pin answer) on a stolen token disabled before the session: no session opens, a spare active", async () => {
    const pin = "947316";
    const thiefPin = "729461";
    rememberSecret(pin);
    rememberSecret(thiefPin);
    const uma = await staffMember(v, "uma", "support", "RACE0004");
    await signIn(new ConsoleVisitor(base), "uma", uma, pin, true);
    await v.ctx.database.db.deleteFrom("console_sessions").where("staff_user", "=", "uma").execute();
    await softToken(v, "RACE0005", "uma");
    // Her PIN reset (forgotten); meanwhile RACE0004 is stolen, and the thief answers the first use.
    await resetPin(v.ctx, helpdesk, "uma");
    const thief = new ConsoleVisitor(base);
    await thief.get("/console/sign-in");
    const first = await thief.post("/console/sign-in", { user: "uma", passcode: uma.nextCode() });
    afterAccept = { user: "uma", run: () => disableToken(v.ctx, helpdesk, "RACE0004", "stolen") };
    const chosen = await thief.post("/console/sign-in/challenge", { user: "uma", challenge: hiddenField(first.html, "challenge"), response: thiefPin });
    expect(afterAccept).toBeNull();
    expect(chosen.status).toBe(401);
    expect(await sessionsOf("uma")).toEqual([]);
    expect((await thief.get("/console/")).status).toBe(303);
  });

  test("a step-up whose token is disabled as stolen before the action: the action is not carried out", async () => {
    const pin = "947316";
    rememberSecret(pin);
    await softToken(v, "RACE0009", "wendy");
    await v.ctx.database.db.updateTable("users").set({ pin_verifier: v.ctx.verifiers.pinVerifier("wendy", "583016") }).where("name", "=", "wendy").execute();
    const vic = await staffMember(v, "vic", "support", "RACE0006");
    const laptop = new ConsoleVisitor(base);
    await signIn(laptop, "vic", vic, pin, true);
    // The step-up time has passed, the session is still alive: a thief with the laptop and the token.
    v.clock.advance(11 * 60);
    await laptop.get("/console/");
    const asked = await laptop.post("/console/actions/user-pin-reset", { user: "wendy" });
    expect(asked.html).toContain('name="fields"');
    afterAccept = { user: "vic", run: () => disableToken(v.ctx, helpdesk, "RACE0006", "stolen") };
    const done = await laptop.post("/console/step-up", { action: "user-pin-reset", fields: JSON.stringify({ user: "wendy" }), passcode: pin + vic.nextCode() });
    expect(afterAccept).toBeNull();
    expect(done.status).toBe(401);
    expect(await readAudit(v.ctx.database.db, { user: "wendy", event: "user.pin-reset", limit: 1 })).toEqual([]);
    const wendyPin = await v.ctx.database.db.selectFrom("users").select("pin_verifier").where("name", "=", "wendy").executeTakeFirstOrThrow();
    expect(wendyPin.pin_verifier).not.toBeNull();
    const [refused] = await readAudit(v.ctx.database.db, { user: "vic", event: "console.step-up", limit: 1 });
    expect(refused).toMatchObject({ result: "refused", detail: { reason: "token-taken-away" } });
  });
});
