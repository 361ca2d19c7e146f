// Attacker reviews: the codes a token showed while one person held it were not spent when it went to
// someone else, so its previous holder (or whoever found it) answered the new holder's first use with a
// code noted earlier, alone or as a next-code pair, and chose their PIN; and spending them at the
// assignment instead held up a drawer token that ran slow. Each test failed before its fix.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { referenceCode, referenceStep } from "../../support/reference-totp.js";
import { dialects, validatorForSuite, type RunningValidator } from "../../support/test-validator.js";

describe.each(dialects)("a token that changes hands on %s", (dialect) => {
  let v: RunningValidator;
  let serials = 0;
  validatorForSuite(dialect, (started) => (v = started));

  const validate = (body: Record<string, string>) => v.request("POST", "/v1/validate", body, "portal");
  const codeOf = (secret: Buffer, stepsAhead = 0) => referenceCode(secret, referenceStep(v.clock.millis) + stepsAhead);
  const pinSet = async (user: string) => (await v.request("GET", `/v1/users/${user}`, undefined, "support")).json.pinSet as boolean;

  /** A user who went through first use with a fresh token and chose a PIN. */
  async function holder(user: string) {
    const serial = `HO${dialect.slice(0, 2).toUpperCase()}${String(++serials).padStart(6, "0")}`;
    const secret = randomBytes(32);
    expect((await v.request("POST", "/v1/tokens", { serial, secretHex: secret.toString("hex") })).status).toBe(201);
    expect((await v.request("POST", `/v1/tokens/${serial}/assign`, { user })).status).toBe(200);
    const first = await validate({ user, passcode: codeOf(secret) });
    expect((await validate({ user, challenge: first.json.challenge.id, response: "583920" })).json.result).toBe("accept");
    v.clock.advance(60);
    return { serial, secret };
  }

  it("codes the previous holder noted and never used do not open the next holder's first use", async () => {
    const { serial, secret } = await holder("hand.over.a1");
    // Noted at the hand-in: the code it shows, and the next one if it runs a little fast.
    const noted = [codeOf(secret), codeOf(secret, 1)];
    const handedInAt = referenceStep(v.clock.millis);
    expect((await v.request("POST", `/v1/tokens/${serial}/unassign`, {})).status).toBe(200);
    v.clock.advance(30);
    expect((await v.request("POST", `/v1/tokens/${serial}/assign`, { user: "hand.over.b1" })).status).toBe(200);
    for (const code of noted) expect((await validate({ user: "hand.over.b1", passcode: code })).json.result).toBe("reject");
    // The new holder's first login, with a code the token shows after those.
    v.clock.advance(120);
    const first = await validate({ user: "hand.over.b1", passcode: codeOf(secret) });
    expect(first.json.challenge.kind).toBe("new-pin");
    expect((await validate({ user: "hand.over.b1", challenge: first.json.challenge.id, response: "740392" })).json.result).toBe("accept");
    const spent = (await v.request("GET", `/v1/audit?serial=${serial}`, undefined, "auditor")).json.entries.find((entry: { event: string }) => entry.event === "token.unassign");
    expect(spent.detail.spentThrough).toBe(handedInAt + 1);
  });

  it("a drawer token that ran slow meanwhile is not held up at its holder's first login", async () => {
    const serial = `HO${dialect.slice(0, 2).toUpperCase()}${String(++serials).padStart(6, "0")}`;
    const secret = randomBytes(32);
    expect((await v.request("POST", "/v1/tokens", { serial, secretHex: secret.toString("hex") })).status).toBe(201);
    // Registered unassigned, 20 weeks in a drawer, 3 steps slow by then, then handed out.
    v.clock.advance(20 * 7 * 86_400);
    expect((await v.request("POST", `/v1/tokens/${serial}/assign`, { user: "hand.over.b5" })).status).toBe(200);
    const opened = await validate({ user: "hand.over.b5", passcode: codeOf(secret, -3) });
    expect(opened.json.challenge.kind).toBe("next-code");
    const answered = await validate({ user: "hand.over.b5", challenge: opened.json.challenge.id, response: codeOf(secret, -2) });
    expect(answered.json.challenge.kind).toBe("new-pin");
  });

  it("two consecutive codes noted before a drawer token is handed over do not reach the next holder's first use", async () => {
    const { serial, secret } = await holder("hand.over.a2");
    // Unused for 20 weeks: the next-code window grew to ±30 steps.
    v.clock.advance(20 * 7 * 86_400);
    const first = codeOf(secret, 0);
    const second = codeOf(secret, 1);
    expect((await v.request("POST", `/v1/tokens/${serial}/unassign`, {})).status).toBe(200);
    v.clock.advance(5 * 60);
    expect((await v.request("POST", `/v1/tokens/${serial}/assign`, { user: "hand.over.b2" })).status).toBe(200);
    v.clock.advance(20 * 60);
    const opened = await validate({ user: "hand.over.b2", passcode: first });
    const answered = opened.json.result === "challenge" ? await validate({ user: "hand.over.b2", challenge: opened.json.challenge.id, response: second }) : opened;
    const chosen =
      answered.json.result === "challenge" ? await validate({ user: "hand.over.b2", challenge: answered.json.challenge.id, response: "740392" }) : answered;
    expect(opened.json.result).toBe("reject");
    expect(chosen.json.result).toBe("reject");
    expect(await pinSet("hand.over.b2")).toBe(false);
  });

  it("a token found and enabled again has the codes it showed before the current one spent", async () => {
    const { serial, secret } = await holder("hand.over.a3");
    expect((await v.request("POST", `/v1/users/hand.over.a3/pin-reset`, {}, "support")).status).toBe(200);
    expect((await v.request("POST", `/v1/tokens/${serial}/disable`, { reason: "lost" }, "support")).status).toBe(200);
    // Whoever found it notes a code, then it comes back and is enabled.
    const noted = codeOf(secret);
    v.clock.advance(120);
    expect((await v.request("POST", `/v1/tokens/${serial}/enable`, {}, "support")).status).toBe(200);
    expect((await validate({ user: "hand.over.a3", passcode: noted })).json.result).toBe("reject");
    expect((await validate({ user: "hand.over.a3", passcode: codeOf(secret) })).json.challenge.kind).toBe("new-pin");
  });

  it("assigning a token again to the user who holds it spends nothing", async () => {
    const { serial, secret } = await holder("hand.over.a4");
    v.clock.advance(60);
    expect((await v.request("POST", `/v1/tokens/${serial}/assign`, { user: "hand.over.a4" })).status).toBe(200);
    // The code of the step before (within the direct window) is still good: nothing changed hands.
    expect((await validate({ user: "hand.over.a4", passcode: `583920${codeOf(secret, -1)}` })).json.result).toBe("accept");
  });
});
