// The support console in a real browser, end to end: a simulated token (the firmware in the
// DeviceScript VM) provisioned with `jeton provision` for a staff member, `jeton staff add`, sign-in
// with the code read off the simulated display (first use: new PIN), serving a caller (unlock; lost
// token → emergency password → replacement), sign-out, and the audit view. axe-core checks every page.
// Screenshots for the README: JETON_CONSOLE_SCREENSHOTS=1 writes them to docs/ (else a temp folder).
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { setTimeMac, TokenResult } from "../../common/token-service/token-protocol.js";
import { startTokenSim, type TokenSim } from "../../hardware/sim/token-sim.js";
import { defaultConsoleOptions } from "../../validator/console/console-server.js";
import { projectFile } from "../../common/project-files.js";
import { FollowingClock } from "../provisioner/support/following-clock.js";
import { startSerialTokenBridge, type SerialTokenBridge } from "../provisioner/support/serial-token-bridge.js";
import { codeOnDisplay, nextCodeOnDisplay, seedFromOtpauth } from "../provisioner/support/token-screen.js";
import { jeton } from "../support/cli.js";
import { referenceCode, referenceStep } from "../support/reference-totp.js";
import { rememberSecret } from "../support/secret-registry.js";
import { startValidator, testDatabase, type RunningValidator } from "../support/test-validator.js";
import { chromiumMissing, expectNoAxeViolations, launchChromium, watchPageErrors } from "./support/browser.js";

describe.skipIf(chromiumMissing)("support console in Chromium: a staff member with a VM token serves a caller", () => {
  let database: Awaited<ReturnType<typeof testDatabase>>;
  let validator: RunningValidator;
  let sim: TokenSim;
  let bridge: SerialTokenBridge;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: string[];
  let base: string;
  let cliEnv: NodeJS.ProcessEnv;
  let keyDir: string;
  const clock = new FollowingClock();
  const shots = process.env.JETON_CONSOLE_SCREENSHOTS ? projectFile("docs") : mkdtempSync(join(tmpdir(), "jeton-console-shots-"));
  const alicePin = "862039";
  const carolPin = "517384";
  const carolSeed = randomBytes(32);
  let serial = "";
  let seed: Buffer;
  let setTimeCounter = 0;
  let lastCode = "";
  let password = "";

  const carolCode = () => referenceCode(carolSeed, referenceStep(clock.now()));
  const validate = (body: object) => validator.request("POST", "/v1/validate", body, "portal");
  const screenshot = (name: string) => page.screenshot({ path: join(shots, `console-${name}.png`), fullPage: true });
  /** The page's HTML once any navigation in progress has settled. */
  async function settledContent(): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      await page.waitForLoadState("load").catch(() => undefined);
      try {
        return await page.content();
      } catch (error) {
        if (attempt > 10) throw error;
      }
    }
  }
  async function visit(path: string) {
    await page.goto(base + path);
    await expectNoAxeViolations(page);
  }

  /** time passes for both clocks: the validator's, and the token's through an authenticated set-time */
  async function timePasses(seconds: number) {
    clock.advance(seconds);
    setTimeCounter++;
    const time = Math.floor(sim.harness.rtc!.now()) + seconds;
    expect(await sim.token.setTime({ time, counter: setTimeCounter, mac: setTimeMac(seed, time, setTimeCounter) })).toBe(TokenResult.Ok);
  }

  beforeAll(async () => {
    for (const secret of [alicePin, carolPin, carolSeed.toString("hex")]) rememberSecret(secret);
    database = await testDatabase("sqlite");
    validator = await startValidator(database.location, { clock, console: defaultConsoleOptions });
    base = validator.url.replace("127.0.0.1", "localhost");
    // `jeton staff` works on the database directly, like `jeton keys`: same file, same master key.
    keyDir = mkdtempSync(join(tmpdir(), "jeton-console-key-"));
    writeFileSync(join(keyDir, "master.key"), validator.masterKey.toString("base64"), { mode: 0o600 });
    cliEnv = { JETON_URL: validator.url, JETON_API_KEY: validator.keys.helpdesk };
    sim = await startTokenSim();
    bridge = await startSerialTokenBridge(sim.hub.port);
    browser = await launchChromium();
    context = await browser.newContext({ locale: "fr-FR", viewport: { width: 1100, height: 800 } });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    pageErrors = watchPageErrors(page);
  });
  afterAll(async () => {
    await browser?.close();
    await bridge?.close();
    await sim?.close();
    await validator?.close();
    await database?.drop();
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
    if (!process.env.JETON_CONSOLE_SCREENSHOTS) rmSync(shots, { recursive: true, force: true });
  });

  test("a caller, carol: her token, her PIN, then locked out by wrong passcodes", async () => {
    const registered = await validator.request("POST", "/v1/tokens", { serial: "JT90000001", secretHex: carolSeed.toString("hex") });
    expect(registered.status).toBe(201);
    await validator.request("POST", "/v1/tokens/JT90000001/assign", { user: "carol" });
    const first = await validate({ user: "carol", passcode: carolCode() });
    expect((await validate({ user: "carol", challenge: first.json.challenge.id, response: carolPin })).json.result).toBe("accept");
    // the replacement she will get, registered but not yet assigned
    expect((await validator.request("POST", "/v1/tokens", { serial: "JT90000002", secretHex: randomBytes(32).toString("hex") })).status).toBe(201);
    for (let attempt = 0; attempt < 10; attempt++) {
      expect((await validate({ user: "carol", passcode: carolPin + "000000" })).json.result).toBe("reject");
      clock.advance(300); // past each throttle delay
    }
    expect((await validator.request("GET", "/v1/users/carol", undefined, "support")).json.lockout.state).toBe("locked");
  });

  test("jeton provision seeds the VM token for alice; jeton staff add makes her help-desk staff", async () => {
    const provisioned = await jeton(["provision", "--port", bridge.hostPath, "--user", "alice", "--show-otpauth", "--json"], cliEnv);
    expect(provisioned.code).toBe(0);
    const outcome = JSON.parse(provisioned.stdout);
    expect(outcome.state).toBe("registered");
    serial = outcome.serial;
    seed = seedFromOtpauth(outcome.otpauth);
    rememberSecret(seed.toString("hex"));
    setTimeCounter = await sim.token.setTimeCounter();

    const staffEnv = { JETON_DATA_DIR: join(database.location.kind === "sqlite" ? database.location.file : "", ".."), JETON_MASTER_KEY_FILE: join(keyDir, "master.key") };
    const refused = await jeton(["staff", "add", "nobody", "--role", "support"], staffEnv);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/nobody holds no token/);
    const added = await jeton(["staff", "add", "alice", "--role", "helpdesk", "--json"], staffEnv);
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ user: "alice", role: "helpdesk" });
    const listed = await jeton(["staff", "list", "--json"], staffEnv);
    expect(JSON.parse(listed.stdout)).toMatchObject([{ user: "alice", role: "helpdesk" }]);
  });

  test("alice signs in with the keyboard alone: the code read off the token's display, then her new PIN", async () => {
    await visit("/console/");
    expect(page.url()).toBe(base + "/console/sign-in");
    expect(await page.getAttribute("html", "lang")).toBe("fr");
    await screenshot("sign-in");
    // a skip link to the content, shown when focused
    await page.getByRole("link", { name: "Aller au contenu" }).focus();
    expect(await page.getByRole("link", { name: "Aller au contenu" }).getAttribute("href")).toBe("#main");
    expect(await page.getByRole("link", { name: "Aller au contenu" }).isVisible()).toBe(true);
    await page.getByLabel("Identifiant").focus();
    await page.keyboard.type("alice");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("passcode");
    lastCode = await codeOnDisplay(sim.token, serial);
    rememberSecret(lastCode);
    await page.keyboard.type(lastCode);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Choisissez votre code PIN" }).waitFor();
    await expectNoAxeViolations(page);
    await page.keyboard.type("111111");
    await page.keyboard.press("Enter");
    await page.getByRole("alert").filter({ hasText: "répète un seul chiffre" }).waitFor();
    expect(await page.getByLabel("Nouveau code PIN").getAttribute("aria-invalid")).toBe("true");
    await expectNoAxeViolations(page);
    await page.getByLabel("Nouveau code PIN").fill(alicePin);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Tableau de bord" }).waitFor();
    await expect.poll(() => page.getByText("Connecté : alice").count()).toBe(1);
    const cookies = await context.cookies();
    expect(cookies.find((cookie) => cookie.name === "__Host-jeton-session")).toMatchObject({ secure: true, httpOnly: true, sameSite: "Strict", path: "/" });
    await expectNoAxeViolations(page);
    expect(await page.getByRole("region", { name: /Utilisateurs bloqués/ }).getByRole("link", { name: "carol" }).count()).toBe(1);
    await screenshot("dashboard");
  });

  test("she finds carol as she types (htmx) and unlocks her", async () => {
    await visit("/console/search");
    await page.getByLabel("Identifiant (début) ou numéro de série").fill("car");
    await page.locator("#results").getByRole("link", { name: "carol" }).waitFor();
    expect(page.url()).toBe(base + "/console/search");
    await expectNoAxeViolations(page);
    await screenshot("search");
    await page.locator("#results").getByRole("link", { name: "carol" }).click();
    await page.getByRole("heading", { name: "Utilisateur carol" }).waitFor();
    expect(await page.locator(".facts").textContent()).toMatch(/bloqué/);
    await expectNoAxeViolations(page);
    await screenshot("user-locked");
    await page.getByRole("button", { name: "Débloquer" }).click();
    await page.getByRole("status").filter({ hasText: "Utilisateur débloqué." }).waitFor();
    expect(await page.locator(".facts").textContent()).toMatch(/ouvert/);
    await expectNoAxeViolations(page);
  });

  test("lost token: disabled with the reason, an emergency password until 23:59 shown once, a replacement assigned", async () => {
    await page.getByRole("link", { name: "Clé perdue, volée ou cassée…" }).click();
    await page.getByRole("heading", { name: "Clé JT90000001 perdue, volée ou cassée" }).waitFor();
    await expectNoAxeViolations(page);
    await page.getByLabel("Motif").selectOption("lost");
    await screenshot("lost-token");
    await page.getByRole("button", { name: "Désactiver la clé" }).click();
    await page.getByText("La clé est désactivée.").waitFor();
    await expectNoAxeViolations(page);
    const issuing = page.waitForResponse((response) => response.url().endsWith("/console/actions/emergency-issue"));
    await page.getByRole("button", { name: "Émettre un mot de passe de dépannage" }).click();
    const response = await issuing;
    expect(response.headers()["cache-control"]).toBe("no-store");
    await page.getByRole("heading", { name: "Mot de passe de dépannage" }).waitFor();
    password = (await page.locator(".password .group").allTextContents()).join("");
    rememberSecret(password);
    expect(password).toMatch(/^[a-z2-9]{10}$/);
    expect(await page.getByText(/Valable jusqu'à aujourd'hui 23:59/).count()).toBe(1);
    expect(page.url()).not.toContain(password);
    await expectNoAxeViolations(page);
    await screenshot("emergency-password");

    // Never again: not after going on, not by going back in history (the POST result is not kept).
    await page.getByRole("link", { name: "Continuer : attribuer une clé de remplacement" }).click();
    await page.getByRole("heading", { name: "3. Attribuer une clé de remplacement" }).waitFor();
    expect(await page.content()).not.toContain(password);
    // back to the issuing POST's result: the browser has not kept it (no-store) and does not re-post
    await page.goBack().catch(() => undefined);
    expect(await settledContent()).not.toContain(password);
    await page.goto(base + `/console/users/carol/lost/JT90000001`);
    expect(await page.content()).not.toContain(password);
    await expectNoAxeViolations(page);

    await page.getByLabel("Numéro de série de la clé de remplacement").fill("JT90000002");
    await page.getByRole("button", { name: "Attribuer la clé" }).click();
    await page.getByRole("status").filter({ hasText: "Clé attribuée (le code PIN est conservé)." }).waitFor();
    const rows = await page.locator("tbody tr").allTextContents();
    expect(rows.join("\n")).toMatch(/JT90000001\s+désactivée \(perdue\)/);
    expect(rows.join("\n")).toMatch(/JT90000002\s+active/);
    expect(await page.content()).not.toContain(password);
    await expectNoAxeViolations(page);
    await screenshot("user-replaced");
    // carol gets in at the portal today with her PIN and the password read out to her
    expect((await validate({ user: "carol", passcode: carolPin + password })).json.result).toBe("accept");
    expect((await validator.request("GET", "/v1/users/carol", undefined, "support")).json.pinSet).toBe(true);
  });

  test("alice signs out; the session is over on the server", async () => {
    const cookie = (await context.cookies()).find((candidate) => candidate.name === "__Host-jeton-session")!;
    await page.getByRole("button", { name: "Se déconnecter" }).click();
    await page.getByText("Vous êtes déconnecté.").waitFor();
    await expectNoAxeViolations(page);
    // the old cookie, put back, opens nothing
    await context.addCookies([cookie]);
    await page.goto(base + "/console/");
    expect(page.url()).toBe(base + "/console/sign-in");
  });

  test("signed in again (PIN + the token's next code), the audit view shows each action with alice as actor; in English too", async () => {
    await timePasses(60);
    const code = await nextCodeOnDisplay(sim.token, serial, lastCode);
    lastCode = code;
    rememberSecret(alicePin + code);
    await page.getByLabel("Identifiant").fill("alice");
    await page.getByLabel("Passcode OTP (code PIN + code de la clé)").fill(alicePin + code);
    await page.getByRole("button", { name: "Se connecter" }).click();
    await page.getByRole("heading", { name: "Tableau de bord" }).waitFor();
    await visit("/console/audit?actor=user%3Aalice");
    const table = (await page.locator("tbody").textContent()) ?? "";
    for (const event of ["console.sign-in", "user.unlock", "token.disable", "emergency.issue", "token.assign", "console.sign-out"]) {
      expect(table).toContain(event);
    }
    expect(table).not.toContain(password);
    await screenshot("audit");
    await page.getByLabel("Événement").fill("emergency.issue");
    await page.getByRole("button", { name: "Filtrer" }).click();
    await page.waitForURL(/event=emergency.issue/);
    expect(await page.locator("tbody tr").count()).toBe(1);
    await expectNoAxeViolations(page);

    await page.getByRole("button", { name: "Passer en français" }).or(page.getByRole("button", { name: "Switch to English" })).click();
    await page.getByRole("heading", { name: "Audit log" }).waitFor();
    expect(await page.getAttribute("html", "lang")).toBe("en");
    await expectNoAxeViolations(page);
    await visit("/console/users/carol");
    expect(await page.getByRole("heading", { name: "User carol" }).count()).toBe(1);
    await screenshot("user-english");
    expect(pageErrors).toEqual([]);
  });

  test("jeton staff remove ends alice's console session at once", async () => {
    await visit("/console/");
    const staffEnv = { JETON_DATA_DIR: join(database.location.kind === "sqlite" ? database.location.file : "", ".."), JETON_MASTER_KEY_FILE: join(keyDir, "master.key") };
    const removed = await jeton(["staff", "remove", "alice", "--json"], staffEnv);
    expect(removed.code).toBe(0);
    expect(JSON.parse(removed.stdout)).toEqual({ user: "alice", sessionsEnded: 1 });
    await page.reload();
    expect(page.url()).toBe(base + "/console/sign-in");
    expect(JSON.parse((await jeton(["staff", "list", "--json"], staffEnv)).stdout)).toEqual([]);
    // back on the staff for the last test
    expect((await jeton(["staff", "add", "alice", "--role", "helpdesk"], staffEnv)).code).toBe(0);
  });

  test("the idle warning appears before the end, and 'extend' keeps the session", async () => {
    // A separate server with a 1-minute idle time and a warning 58 s ahead.
    const short = await startValidator(database.location, {
      clock,
      console: { ...defaultConsoleOptions, limits: { ...defaultConsoleOptions.limits, idleSeconds: 60, warningSeconds: 58 } },
      masterKey: validator.masterKey,
    });
    try {
      const shortBase = short.url.replace("127.0.0.1", "localhost");
      // a context of its own: cookies are per host, not per port, and both servers share the database
      const otherContext = await browser.newContext({ locale: "fr-FR" });
      const other = await otherContext.newPage();
      await other.goto(shortBase + "/console/sign-in");
      await timePasses(60);
      const code = await nextCodeOnDisplay(sim.token, serial, lastCode);
      rememberSecret(alicePin + code);
      await other.getByLabel("Identifiant").fill("alice");
      await other.locator("#passcode").fill(alicePin + code);
      await other.locator("#passcode").press("Enter");
      await other.locator("#session-warning").waitFor({ state: "visible", timeout: 10_000 });
      await expectNoAxeViolations(other);
      await other.getByRole("button", { name: "Prolonger la session" }).click();
      await other.locator("#session-warning").waitFor({ state: "hidden" });
      // without extending, the idle time runs out (on the server's clock): the next page is the sign-in
      await timePasses(61);
      await other.reload();
      await other.getByText("Votre session a expiré après une période d'inactivité. Reconnectez-vous.").waitFor();
      await expectNoAxeViolations(other);
      await otherContext.close();
    } finally {
      await short.close();
    }
  });
});
