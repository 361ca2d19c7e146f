import { randomBytes, randomUUID } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { referenceCode, referenceStep } from "../../support/reference-totp.js";
import { validatorForSuite, type RunningValidator } from "../../support/test-validator.js";

/**
 * Seeds are opened only when the rules read them (operations/validation.ts). That must not make one
 * reject cheaper than another: every passcode reject opens `tokensPerUser` seeds whoever the user is, and
 * a challenge answer refused before its token is looked up opens none, for a known and an unknown user.
 */
describe("seeds opened per attempt", () => {
  let v: RunningValidator;
  let serials = 0;
  validatorForSuite("sqlite", (started) => (v = started));
  afterEach(() => vi.restoreAllMocks());

  const code = (secret: Buffer) => referenceCode(secret, referenceStep(v.clock.millis));
  const validate = async (body: Record<string, string>) => (await v.request("POST", "/v1/validate", body, "portal")).json;

  async function userWithPin(user: string, tokens = 1): Promise<Buffer[]> {
    const secrets = Array.from({ length: tokens }, () => randomBytes(32));
    for (const secret of secrets) {
      const serial = `JT${String(++serials).padStart(8, "0")}`;
      expect((await v.request("POST", "/v1/tokens", { serial, secretHex: secret.toString("hex") })).status).toBe(201);
      expect((await v.request("POST", `/v1/tokens/${serial}/assign`, { user })).status).toBe(200);
    }
    const opened = await validate({ user, passcode: code(secrets[0]!) });
    expect((await validate({ user, challenge: opened.challenge.id, response: "583920" })).result).toBe("accept");
    v.clock.advance(60);
    return secrets;
  }

  /** The decision and how many seeds it opened. */
  async function counted(body: Record<string, string>): Promise<[string, number]> {
    const open = vi.spyOn(v.ctx.vault, "open");
    const { result } = await validate(body);
    const opens = open.mock.calls.length;
    open.mockRestore();
    return [result, opens];
  }

  it("every passcode reject opens as many seeds as a user may hold; an accept on the held token opens one", async () => {
    const [secret] = await userWithPin("one.token");
    const [first] = await userWithPin("two.tokens", 2);
    const [lockedSecret] = await userWithPin("locked");
    for (let failure = 0; failure < v.ctx.policy.lockAfter; failure++) await validate({ user: "locked", passcode: "111111000000" });

    expect([
      await counted({ user: "nobody", passcode: "583920" + code(secret!) }),
      await counted({ user: "one.token", passcode: "111111" + code(secret!) }),
      await counted({ user: "one.token", passcode: "583920000000" }),
      await counted({ user: "two.tokens", passcode: "583920000000" }),
      await counted({ user: "locked", passcode: "583920" + code(lockedSecret!) }),
    ]).toEqual(Array(5).fill(["reject", v.ctx.policy.tokensPerUser]));
    expect(await counted({ user: "one.token", passcode: "583920" + code(secret!) })).toEqual(["accept", 1]);
    expect(await counted({ user: "two.tokens", passcode: "583920" + code(first!) })).toEqual(["accept", 1]);
  });

  it("a challenge answer with an unknown id opens none, for a known and an unknown user", async () => {
    await userWithPin("answering");
    expect([
      await counted({ user: "answering", challenge: randomUUID(), response: "123456" }),
      await counted({ user: "nobody.else", challenge: randomUUID(), response: "123456" }),
    ]).toEqual([
      ["reject", 0],
      ["reject", 0],
    ]);
  });
});
