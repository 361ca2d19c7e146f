// A registration the validator refuses (409: the serial registered meanwhile by a colleague, with their
// seed) is a failed registration: the token is wiped (button) and nothing is assigned. An attacker review
// (2026-12-03) found it taken for "a lost answer that may hide a successful registration": the colleague's
// token was assigned to our user and ours kept a seed the validator did not know.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { adminApi } from "../../jeton/api-client.js";
import { startTokenSim, type TokenSim } from "../../hardware/sim/token-sim.js";
import { provisionToken, ProvisionFailure } from "../../provisioner/provision.js";
import { validatorReferenceClock } from "../../provisioner/reference-clock.js";
import { loadProvisionerProfile } from "../../provisioner/token-profile.js";
import { validatorClient, type ValidatorClient } from "../../provisioner/validator-client.js";
import { startValidator, testDatabase, type RunningValidator } from "../support/test-validator.js";
import { FollowingClock } from "./support/following-clock.js";

describe("provision after a refused registration", () => {
  let sim: TokenSim;
  let validator: RunningValidator;
  let database: Awaited<ReturnType<typeof testDatabase>>;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    database = await testDatabase("sqlite");
    validator = await startValidator(database.location, { clock: new FollowingClock() });
    sim = await startTokenSim();
    env = { JETON_URL: validator.url, JETON_API_KEY: validator.keys.helpdesk };
  });
  afterAll(async () => {
    await sim?.close();
    await validator?.close();
    await database?.drop();
  });

  test("a 409 conflict on registration (serial taken meanwhile by a colleague) is not a success", async () => {
    const profile = loadProvisionerProfile();
    const real = validatorClient(adminApi(env));
    const colleagueSeed = randomBytes(32);
    // Between our pre-check (serial free) and our registration, a colleague registers the same serial
    // (typo / shared CSV / second workstation). Our registration is then refused with 409 by the real validator.
    const racing: ValidatorClient = {
      ...real,
      registerToken: async (registration) => {
        const colleague = await validator.request("POST", "/v1/tokens", { serial: registration.serial, secretHex: colleagueSeed.toString("hex") });
        expect(colleague.status).toBe(201);
        return real.registerToken(registration);
      },
    };
    const exported: string[] = [];
    // press the button if (as it should) the provisioner asks to wipe
    let pressed = false;
    const pressWhenAsked = sim.token
      .waitForScreen((s) => s.startsWith("Press button to\nwipe"), 25_000)
      .then(() => sim.harness.button.press())
      .then(() => (pressed = true))
      .catch(() => undefined);

    const result = await provisionToken(
      { user: "jdupont", serial: "JT00000555", algorithm: "SHA256" },
      {
        token: sim.token,
        validator: racing,
        clock: await validatorReferenceClock(real),
        profile,
        say: () => undefined,
        onSeed: (entry) => exported.push(entry.serial),
      },
    ).then(
      (outcome) => ({ outcome, error: undefined as unknown }),
      (error: unknown) => ({ outcome: undefined, error }),
    );
    if (result.error) await pressWhenAsked;

    // What the validator now believes: JT00000555 (the colleague's seed) belongs to jdupont
    const registered = (await validator.request("GET", "/v1/tokens/JT00000555")).json;

    // Correct: the provisioning failed, the token was wiped, nothing of ours was exported or assigned.
    expect(result.outcome?.state, "provisioner reported success although the validator refused the registration").toBeUndefined();
    expect(result.error).toBeInstanceOf(ProvisionFailure);
    expect((result.error as ProvisionFailure).outcome.state).toBe("wiped");
    expect(pressed).toBe(true);
    expect(await sim.token.provisioned()).toBe(false);
    expect(exported).toEqual([]);
    expect(registered.user).toBeNull(); // the colleague's token was not handed to jdupont
  });
});
