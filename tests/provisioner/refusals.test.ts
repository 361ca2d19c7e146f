// Bad input and failures: each gets a clear message naming the problem, a non-zero exit code, and
// leaves the token and the validator as they were. After a failure past the write, the token ends
// wiped (button confirmed) or registered, and the outcome says which.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startFrameHub } from "../../hardware/sim/frame-hub.js";
import { startTokenSim, type TokenSim } from "../../hardware/sim/token-sim.js";
import { CommandFailure } from "../../common/failure.js";
import { provisionToken, ProvisionFailure } from "../../provisioner/provision.js";
import { validatorReferenceClock } from "../../provisioner/reference-clock.js";
import { loadProvisionerProfile } from "../../provisioner/token-profile.js";
import { validatorClient } from "../../provisioner/validator-client.js";
import { adminApi } from "../../jeton/api-client.js";
import { jeton } from "../support/cli.js";
import { startValidator, testDatabase, type RunningValidator } from "../support/test-validator.js";
import { FollowingClock } from "./support/following-clock.js";

describe("provisioner refusals", () => {
  let sim: TokenSim;
  let validator: RunningValidator;
  let database: Awaited<ReturnType<typeof testDatabase>>;
  let env: NodeJS.ProcessEnv;
  let tcp: string;

  const registeredSerials = async () =>
    (await validator.request("GET", "/v1/audit?limit=200", undefined, "auditor")).json.entries.filter((e: { event: string }) => e.event === "token.register").map((e: { serial: string }) => e.serial);

  async function expectUntouched() {
    expect(await sim.token.provisioned()).toBe(false);
  }

  beforeAll(async () => {
    database = await testDatabase("sqlite");
    validator = await startValidator(database.location, { clock: new FollowingClock() });
    sim = await startTokenSim();
    env = { JETON_URL: validator.url, JETON_API_KEY: validator.keys.helpdesk };
    tcp = `127.0.0.1:${sim.hub.port}`;
  });
  afterAll(async () => {
    await sim?.close();
    await validator?.close();
    await database?.drop();
  });

  test("malformed user, serial, algorithm and options are usage errors (exit 2)", async () => {
    const onHub = ["--tcp", tcp];
    const cases: [string[], RegExp][] = [
      [[...onHub, "--user", "jd upont"], /--user "jd upont" is not an academic identifier/],
      [[...onHub, "--user", "jdupont", "--serial", "XX12"], /serial "XX12" does not match the token profile/],
      [[...onHub, "--user", "jdupont", "--algorithm", "MD5"], /--algorithm/],
      [[...onHub, "--user", "jdupont", "--wait", "soon"], /--wait must be a number of seconds/],
      [["--user", "jdupont", "--port", "/dev/ttyJETON-nope"], /serial port \/dev\/ttyJETON-nope does not exist/],
      [["--user", "jdupont", "--port", "/dev/null", ...onHub], /either --port or --tcp/],
    ];
    for (const [args, message] of cases) {
      const result = await jeton(["provision", ...args], env);
      expect(result.stderr, args.join(" ")).toMatch(message);
      expect(result.code, args.join(" ")).toBe(2);
    }
    const noUrl = await jeton(["provision", "--tcp", tcp, "--user", "jdupont"], {});
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toMatch(/JETON_URL/);
    await expectUntouched();
    expect(await registeredSerials()).toEqual([]);
  });

  test("no token: no hub at the address, or a hub with no token on it (exit 4)", async () => {
    const noHub = await jeton(["provision", "--tcp", "127.0.0.1:1", "--user", "jdupont"], env);
    expect(noHub.code).toBe(4);
    expect(noHub.stderr).toMatch(/no token hub at tcp:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)/);
    const emptyHub = await startFrameHub();
    try {
      const none = await jeton(["provision", "--tcp", String(emptyHub.port), "--user", "jdupont", "--wait", "1"], env);
      expect(none.code).toBe(4);
      expect(none.stderr).toMatch(/no token found on tcp:\/\/127\.0\.0\.1:\d+ within 1 s/);
    } finally {
      await emptyHub.close();
    }
    expect(await registeredSerials()).toEqual([]);
  });

  test("automatic detection never crashes, also where serial ports cannot be listed (no udev)", async () => {
    const devices = await jeton(["devices", "--json"], env);
    expect(devices.code).toBe(0);
    const listing = JSON.parse(devices.stdout);
    expect(listing.tokens).toEqual([]);
    expect(listing.notes.join("\n")).toMatch(/listing serial ports failed \(.*\); name the port with --port|no serial port of a known token board/);
    const provision = await jeton(["provision", "--user", "jdupont", "--wait", "1"], env);
    expect(provision.code).toBe(4);
    expect(provision.stderr).toMatch(/cannot detect tokens automatically: listing serial ports failed|no token found on serial \(automatic\) within 1 s/);
    await expectUntouched();
  });

  test("validator unreachable (exit 3) or refusing the key (exit 1): the token is not written", async () => {
    const down = await jeton(["provision", "--tcp", tcp, "--user", "jdupont"], { ...env, JETON_URL: "http://127.0.0.1:1" });
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/validator at http:\/\/127\.0\.0\.1:1 is unreachable/);
    const wrongKey = await jeton(["provision", "--tcp", tcp, "--user", "jdupont"], { ...env, JETON_API_KEY: "not-a-key" });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toMatch(/refused the API key \(401/);
    const portalKey = await jeton(["provision", "--tcp", tcp, "--user", "jdupont"], { ...env, JETON_API_KEY: validator.keys.portal });
    expect(portalKey.code).toBe(1);
    expect(portalKey.stderr).toMatch(/refused the API key \(403 .*helpdesk/);
    await expectUntouched();
  });

  test("a serial already registered is refused before the write", async () => {
    const taken = await validator.request("POST", "/v1/tokens", { serial: "JT00000777", secretHex: "11".repeat(32) });
    expect(taken.status).toBe(201);
    const result = await jeton(["provision", "--tcp", tcp, "--user", "jdupont", "--serial", "JT00000777"], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/serial JT00000777 is already registered/);
    await expectUntouched();
  });

  test("registration failing after the write: the token is wiped (button) and the outcome says so", async () => {
    const profile = loadProvisionerProfile();
    const real = validatorClient(adminApi(env));
    const failing = { ...real, registerToken: async () => Promise.reject(new CommandFailure("503 simulated outage", 1)) };
    const prompts: string[] = [];
    const pressWhenAsked = sim.token.waitForScreen((s) => s.startsWith("Press button to\nwipe"), 20_000).then(() => sim.harness.button.press());
    const attempt = provisionToken(
      { user: "jdupont", serial: "JT00000778", algorithm: "SHA256" },
      { token: sim.token, validator: failing, clock: await validatorReferenceClock(real), profile, say: (line) => prompts.push(line) },
    );
    const failure = await attempt.then(() => undefined, (error: unknown) => error);
    await pressWhenAsked;
    expect(failure).toBeInstanceOf(ProvisionFailure);
    expect((failure as ProvisionFailure).outcome.state).toBe("wiped");
    expect((failure as ProvisionFailure).message).toMatch(/registration failed \(503 simulated outage\); the token was wiped/);
    expect(prompts.join("\n")).toMatch(/press the button on the token/);
    await expectUntouched();
    expect((await validator.request("GET", "/v1/tokens/JT00000778")).status).toBe(404);
  });

  test("verification failing after the write (device clock off): the token is wiped and the outcome says so", async () => {
    const profile = loadProvisionerProfile();
    const real = validatorClient(adminApi(env));
    const reference = await validatorReferenceClock(real);
    // the reference clock moves 10 s between the write and the check, as if the token had not kept the time
    let calls = 0;
    const jumpy = { ...reference, now: () => reference.now() + (calls++ > 0 ? 10_000 : 0) };
    const pressWhenAsked = sim.token.waitForScreen((s) => s.startsWith("Press button to\nwipe"), 20_000).then(() => sim.harness.button.press());
    const failure = await provisionToken(
      { user: "jdupont", serial: "JT00000779", algorithm: "SHA256" },
      { token: sim.token, validator: real, clock: jumpy, profile, say: () => undefined },
    ).then(() => undefined, (error: unknown) => error);
    await pressWhenAsked;
    expect(failure).toBeInstanceOf(ProvisionFailure);
    const outcome = (failure as ProvisionFailure).outcome;
    expect(outcome.state).toBe("wiped");
    expect(outcome.verification!.checks.find((c) => c.name === "clock")).toMatchObject({ ok: false, detail: expect.stringMatching(/device clock -1[01] s from the reference/) });
    expect((failure as ProvisionFailure).message).toMatch(/^verification failed \(clock: .*\); the token was wiped/);
    await expectUntouched();
    expect((await validator.request("GET", "/v1/tokens/JT00000779")).status).toBe(404);
  });

  test("an already provisioned token is refused and keeps its seed; wipe needs the button", async () => {
    const first = await jeton(["provision", "--tcp", tcp, "--user", "jdupont", "--json"], env);
    expect(first.code).toBe(0);
    const serial = JSON.parse(first.stdout).serial as string;
    const fingerprint = await sim.token.secretFingerprint();
    const again = await jeton(["provision", "--tcp", tcp, "--user", "mmartin"], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(new RegExp(`already provisioned \\(serial ${serial}\\)`));
    expect((await sim.token.secretFingerprint()).equals(fingerprint)).toBe(true);
    expect(await registeredSerials()).toEqual(expect.arrayContaining([serial]));
    expect((await registeredSerials()).length).toBe(2); // JT00000777 (registered by hand above) + this one

    const pressWhenAsked = sim.token.waitForScreen((s) => s.startsWith("Press button to\nwipe"), 20_000).then(() => sim.harness.button.press());
    const wiped = await jeton(["wipe", "--tcp", tcp], env);
    await pressWhenAsked;
    expect(wiped.code).toBe(0);
    expect(wiped.stderr).toMatch(/press the button on the token/);
    expect(wiped.stdout).toMatch(new RegExp(`token ${serial} wiped`));
    await expectUntouched();
    const nothing = await jeton(["wipe", "--tcp", tcp], env);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toMatch(/not provisioned: nothing to wipe/);
  });

  test("the wiped token takes a SHA-1 seed of the profile's SHA-1 length", async () => {
    const result = await jeton(["provision", "--tcp", tcp, "--user", "mmartin", "--algorithm", "SHA1", "--show-otpauth", "--json"], env);
    expect(result.code).toBe(0);
    const outcome = JSON.parse(result.stdout);
    expect(outcome).toMatchObject({ state: "registered", algorithm: "SHA1" });
    expect(new URL(outcome.otpauth).searchParams.get("algorithm")).toBe("SHA1");
    expect(new URL(outcome.otpauth).searchParams.get("secret")).toHaveLength(32); // 20 bytes in base32
    expect(await sim.token.algorithm()).toBe(1);
    expect((await validator.request("GET", `/v1/tokens/${outcome.serial}`)).json).toMatchObject({ algorithm: "SHA1", user: "mmartin" });
  });
});
