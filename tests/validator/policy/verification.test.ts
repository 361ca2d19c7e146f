import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { referenceCode, referenceStep } from "../../support/reference-totp.js";
import { dialects, startValidator, testDatabase, validatorForSuite, type RunningValidator } from "../../support/test-validator.js";

describe.each(dialects)("verification policy over HTTP on %s", (dialect) => {
  let v: RunningValidator;
  let serials = 0;
  validatorForSuite(dialect, (started) => (v = started));

  const validate = (body: Record<string, string>, headers: Record<string, string> = {}) =>
    v.request("POST", "/v1/validate", body, "portal", headers);
  /** The code the token shows now, or `drift` steps ahead of the validator's clock. */
  const codeOf = (secret: Buffer, drift = 0) => referenceCode(secret, referenceStep(v.clock.millis) + drift);

  async function userWithToken(user: string, secret = randomBytes(32)): Promise<{ secret: Buffer; serial: string }> {
    const serial = `JT${String(++serials).padStart(8, "0")}`;
    expect((await v.request("POST", "/v1/tokens", { serial, secretHex: secret.toString("hex") })).status).toBe(201);
    expect((await v.request("POST", `/v1/tokens/${serial}/assign`, { user })).status).toBe(200);
    return { secret, serial };
  }

  /** A user who has been through first use and chose `pin`. */
  async function userWithPin(user: string, pin = "583920") {
    const token = await userWithToken(user);
    const first = await validate({ user, passcode: codeOf(token.secret) });
    expect(first.json.challenge.kind).toBe("new-pin");
    expect((await validate({ user, challenge: first.json.challenge.id, response: pin })).json.result).toBe("accept");
    v.clock.advance(60);
    return { ...token, pin };
  }

  const failuresOf = async (user: string) => (await v.request("GET", `/v1/users/${user}`, undefined, "support")).json.lockout;

  it("first use: the code alone opens a new-pin challenge; weak PINs are refused with a reason; then PIN + code", async () => {
    const { secret } = await userWithToken("first.use");
    const first = await validate({ user: "first.use", passcode: codeOf(secret) });
    expect(first.json).toMatchObject({ result: "challenge", challenge: { kind: "new-pin" } });
    const id = first.json.challenge.id;

    for (const [pin, reason] of [["123456", "sequence"], ["1234", "too-short"], ["111111", "repeated-digit"], ["24121990", "date"]]) {
      const weak = await validate({ user: "first.use", challenge: id, response: pin! });
      expect(weak.json).toMatchObject({ result: "challenge", challenge: { id, kind: "new-pin" }, reason });
      expect(weak.json.message).toMatch(/PIN/);
    }
    expect((await validate({ user: "first.use", challenge: id, response: "583920" })).json.result).toBe("accept");
    expect((await validate({ user: "first.use", challenge: id, response: "583921" })).json.result).toBe("reject");

    v.clock.advance(60);
    expect((await validate({ user: "first.use", passcode: codeOf(secret) })).json.result).toBe("reject");
    expect((await validate({ user: "first.use", passcode: "583920" + codeOf(secret) })).json.result).toBe("accept");
    expect((await v.request("GET", "/v1/users/first.use", undefined, "support")).json.pinSet).toBe(true);
  });

  it("a PIN reset by support brings the user back to first use, with the same token", async () => {
    const { secret } = await userWithPin("pin.reset");
    expect((await v.request("POST", "/v1/users/pin.reset/pin-reset", {}, "support")).json.pinSet).toBe(false);
    expect((await validate({ user: "pin.reset", passcode: "583920" + codeOf(secret) })).json.result).toBe("reject");
    const first = await validate({ user: "pin.reset", passcode: codeOf(secret) });
    expect(first.json.challenge.kind).toBe("new-pin");
    expect((await validate({ user: "pin.reset", challenge: first.json.challenge.id, response: "740392" })).json.result).toBe("accept");
  });

  it("replay: a code is accepted once; a code at or before the last accepted step is refused", async () => {
    const { secret, pin } = await userWithPin("replay");
    const passcode = pin + codeOf(secret);
    expect((await validate({ user: "replay", passcode })).json.result).toBe("accept");
    expect((await validate({ user: "replay", passcode })).json.result).toBe("reject");
    v.clock.advance(60);
    // The previous step is inside the ±1 window but not after the last accepted step.
    expect((await validate({ user: "replay", passcode: pin + codeOf(secret, -1) })).json.result).toBe("reject");
    expect((await validate({ user: "replay", passcode: pin + codeOf(secret) })).json.result).toBe("accept");
  });

  it("±1 step around the learned offset is accepted directly", async () => {
    const { secret, pin, serial } = await userWithPin("window");
    expect((await validate({ user: "window", passcode: pin + codeOf(secret, 1) })).json.result).toBe("accept");
    expect((await v.request("GET", `/v1/tokens/${serial}`)).json.offsetSteps).toBe(1);
    v.clock.advance(120);
    expect((await validate({ user: "window", passcode: pin + codeOf(secret, 0) })).json.result).toBe("accept");
    expect((await v.request("GET", `/v1/tokens/${serial}`)).json.offsetSteps).toBe(0);
  });

  it("drift +5 steps → next-code challenge → accept → later codes accepted within ±1 of the new offset", async () => {
    const { secret, pin, serial } = await userWithPin("drift");
    const opened = await validate({ user: "drift", passcode: pin + codeOf(secret, 5) });
    expect(opened.json).toMatchObject({ result: "challenge", challenge: { kind: "next-code" } });
    expect((await v.request("GET", `/v1/tokens/${serial}`)).json.offsetSteps).toBe(0);
    v.clock.advance(60);
    const answered = await validate({ user: "drift", challenge: opened.json.challenge.id, response: codeOf(secret, 5) });
    expect(answered.json.result).toBe("accept");
    expect((await v.request("GET", `/v1/tokens/${serial}`)).json.offsetSteps).toBe(5);
    v.clock.advance(600);
    expect((await validate({ user: "drift", passcode: pin + codeOf(secret, 5) })).json.result).toBe("accept");
    v.clock.advance(60);
    expect((await validate({ user: "drift", passcode: pin + codeOf(secret, 6) })).json.result).toBe("accept");
  });

  it("the offset never moves on a single out-of-window code, and a wrong next code is a failure", async () => {
    const { secret, pin, serial } = await userWithPin("no.move");
    const opened = await validate({ user: "no.move", passcode: pin + codeOf(secret, 7) });
    expect(opened.json.challenge.kind).toBe("next-code");
    const wrong = await validate({ user: "no.move", challenge: opened.json.challenge.id, response: codeOf(secret, 4) });
    expect(wrong.json.result).toBe("reject");
    expect((await v.request("GET", `/v1/tokens/${serial}`)).json.offsetSteps).toBe(0);
    expect((await failuresOf("no.move")).failures).toBe(1);
    // The challenge is spent: even the right code no longer answers it.
    const again = await validate({ user: "no.move", challenge: opened.json.challenge.id, response: codeOf(secret, 8) });
    expect(again.json.result).toBe("reject");
    // Beyond ±10 nothing happens at all.
    expect((await validate({ user: "no.move", passcode: pin + codeOf(secret, 11) })).json.result).toBe("reject");
  });

  it("lockout: throttled from the 3rd consecutive failure, exact under 20 parallel attempts; success resets", async () => {
    const { secret, pin } = await userWithPin("throttle");
    const wrong = () => validate({ user: "throttle", passcode: pin + "000000" });
    const answers = await Promise.all(Array.from({ length: 20 }, wrong));
    expect(answers.every((answer) => answer.json.result === "reject")).toBe(true);
    expect(await failuresOf("throttle")).toMatchObject({ failures: 3, state: "throttled" });
    // While throttled the right passcode is refused and not consumed.
    const good = pin + codeOf(secret);
    expect((await validate({ user: "throttle", passcode: good })).json.result).toBe("reject");
    expect((await failuresOf("throttle")).failures).toBe(3);
    v.clock.advance(5);
    expect((await validate({ user: "throttle", passcode: good })).json.result).toBe("accept");
    expect((await failuresOf("throttle")).failures).toBe(0);
  });

  it("lockout: locked at the 10th failure exactly (20 parallel), nothing evaluated while locked, unlock clears it", async () => {
    const { secret, pin } = await userWithPin("locked");
    const wrong = () => validate({ user: "locked", passcode: pin + "000000" });
    for (let failure = 0; failure < 9; failure++) {
      expect((await wrong()).json.result).toBe("reject");
      v.clock.advance(300);
    }
    expect(await failuresOf("locked")).toMatchObject({ failures: 9, state: "open" });
    await Promise.all(Array.from({ length: 20 }, wrong));
    expect(await failuresOf("locked")).toMatchObject({ failures: 10, state: "locked" });
    v.clock.advance(86_400);
    const good = pin + codeOf(secret);
    expect((await validate({ user: "locked", passcode: good })).json.result).toBe("reject");
    expect((await failuresOf("locked")).failures).toBe(10);
    expect((await v.request("POST", "/v1/users/locked/unlock", {}, "support")).json.lockout).toMatchObject({ state: "open", failures: 0 });
    // The code refused while locked was not consumed.
    expect((await validate({ user: "locked", passcode: good })).json.result).toBe("accept");
  });

  it("emergency password: PIN + password until 23:59 in the zone, several times, revoked when a token is next accepted", async () => {
    v.clock.millis = Math.max(v.clock.millis, Date.UTC(2027, 0, 15, 8, 0, 30));
    const { secret, pin } = await userWithPin("emergency");
    const issued = await v.request("POST", "/v1/users/emergency/emergency", {}, "support");
    expect(issued.status).toBe(200);
    const { password, expiresAt } = issued.json;
    expect(password).toMatch(/^[a-z2-9]{10}$/);
    // 15 January 08:01 UTC: the day ends at 23:59:59.999 in Paris, 22:59:59.999 UTC.
    expect(expiresAt).toBe("2027-01-15T22:59:59.999Z");
    expect((await validate({ user: "emergency", passcode: pin + password })).json.result).toBe("accept");
    expect((await validate({ user: "emergency", passcode: pin + password })).json.result).toBe("accept");
    expect((await validate({ user: "emergency", passcode: password })).json.result).toBe("reject");
    expect((await validate({ user: "emergency", passcode: "740392" + password })).json.result).toBe("reject");
    const beforeMidnight = Date.parse(expiresAt) - v.clock.millis;
    v.clock.advance(beforeMidnight / 1000);
    expect((await validate({ user: "emergency", passcode: pin + password })).json.result).toBe("accept");
    v.clock.advance(1);
    expect((await validate({ user: "emergency", passcode: pin + password })).json.result).toBe("reject");

    const second = (await v.request("POST", "/v1/users/emergency/emergency", {}, "support")).json.password;
    expect((await validate({ user: "emergency", passcode: pin + second })).json.result).toBe("accept");
    expect((await validate({ user: "emergency", passcode: pin + codeOf(secret) })).json.result).toBe("accept");
    expect((await validate({ user: "emergency", passcode: pin + second })).json.result).toBe("reject");
    expect((await v.request("GET", "/v1/users/emergency", undefined, "support")).json.emergency).toBeNull();
  });

  it("emergency password: revoked by support, and subject to lockout", async () => {
    const { pin } = await userWithPin("emergency2");
    const password = (await v.request("POST", "/v1/users/emergency2/emergency", {}, "support")).json.password;
    expect((await v.request("DELETE", "/v1/users/emergency2/emergency", undefined, "support")).status).toBe(204);
    expect((await validate({ user: "emergency2", passcode: pin + password })).json.result).toBe("reject");
    const again = (await v.request("POST", "/v1/users/emergency2/emergency", {}, "support")).json.password;
    for (let failure = 0; failure < 10; failure++) {
      await validate({ user: "emergency2", passcode: pin + "wrongpassw" });
      v.clock.advance(300);
    }
    expect((await validate({ user: "emergency2", passcode: pin + again })).json.result).toBe("reject");
  });

  it("a disabled token is never accepted; a replacement keeps the PIN; a user may hold two active tokens", async () => {
    const { secret, pin, serial } = await userWithPin("lost");
    const disabled = await v.request("POST", `/v1/tokens/${serial}/disable`, { reason: "lost" }, "support");
    expect(disabled.json).toMatchObject({ status: "disabled", disabledReason: "lost" });
    expect((await validate({ user: "lost", passcode: pin + codeOf(secret) })).json.result).toBe("reject");

    const replacement = await userWithToken("lost");
    expect((await validate({ user: "lost", passcode: pin + codeOf(replacement.secret) })).json.result).toBe("accept");
    const spare = await userWithToken("lost");
    v.clock.advance(60);
    expect((await validate({ user: "lost", passcode: pin + codeOf(spare.secret) })).json.result).toBe("accept");
    expect((await validate({ user: "lost", passcode: pin + codeOf(replacement.secret) })).json.result).toBe("accept");
    expect((await validate({ user: "lost", passcode: pin + codeOf(secret) })).json.result).toBe("reject");

    // A third active token is refused (every passcode is checked against two, whatever the user holds).
    const third = await v.request("POST", `/v1/tokens/${serial}/enable`, {}, "support");
    expect(third.status).toBe(409);
    expect(third.json.message).toMatch(/already holds 2 active tokens/);
    const extra = await v.request("POST", "/v1/tokens", { serial: "JT90000001", secretHex: randomBytes(32).toString("hex") });
    expect(extra.status).toBe(201);
    expect((await v.request("POST", "/v1/tokens/JT90000001/assign", { user: "lost" })).status).toBe(409);
    expect((await v.request("POST", `/v1/tokens/${spare.serial}/disable`, { reason: "other" }, "support")).status).toBe(200);
    expect((await v.request("POST", `/v1/tokens/${serial}/enable`, {}, "support")).status).toBe(200);
    v.clock.advance(60);
    expect((await validate({ user: "lost", passcode: pin + codeOf(secret) })).json.result).toBe("accept");
  });

  it("unknown user, wrong PIN, wrong code, locked and disabled: byte-identical reject bodies, in English and French", async () => {
    const good = await userWithPin("identical");
    const disabled = await userWithPin("identical.disabled");
    await v.request("POST", `/v1/tokens/${disabled.serial}/disable`, { reason: "stolen" }, "support");
    const locked = await userWithPin("identical.locked");
    for (let failure = 0; failure < 10; failure++) {
      await validate({ user: "identical.locked", passcode: "000000" });
      v.clock.advance(300);
    }
    for (const language of ["en", "fr-FR,fr;q=0.9"]) {
      const attempts = [
        { user: "nobody.here", passcode: good.pin + codeOf(good.secret) },
        { user: "identical", passcode: "740392" + codeOf(good.secret) },
        { user: "identical", passcode: good.pin + "000000" },
        { user: "identical.locked", passcode: locked.pin + codeOf(locked.secret) },
        { user: "identical.disabled", passcode: disabled.pin + codeOf(disabled.secret) },
      ];
      const bodies = new Set<string>();
      for (const attempt of attempts) {
        const answer = await validate(attempt, { "accept-language": language });
        expect(answer.status).toBe(200);
        bodies.add(answer.text);
      }
      expect(bodies.size).toBe(1);
      const [body] = [...bodies];
      expect(JSON.parse(body!)).toEqual({ result: "reject", message: language === "en" ? "Authentication failed." : "Authentification refusée." });
    }
  });

  it("a first-use code out of the direct window goes through next-code, then new-pin", async () => {
    const { secret } = await userWithToken("first.drift");
    const opened = await validate({ user: "first.drift", passcode: codeOf(secret, 4) });
    expect(opened.json.challenge.kind).toBe("next-code");
    const next = await validate({ user: "first.drift", challenge: opened.json.challenge.id, response: codeOf(secret, 5) });
    expect(next.json.challenge.kind).toBe("new-pin");
    expect((await validate({ user: "first.drift", challenge: next.json.challenge.id, response: "740392" })).json.result).toBe("accept");
  });

  it("an expired challenge is refused", async () => {
    const { secret } = await userWithToken("expired");
    const opened = await validate({ user: "expired", passcode: codeOf(secret) });
    v.clock.advance(301);
    expect((await validate({ user: "expired", challenge: opened.json.challenge.id, response: "740392" })).json.result).toBe("reject");
  });

  it("records every decision in the audit log without any passcode, PIN or password", async () => {
    const { secret, pin } = await userWithPin("audited");
    const passcode = pin + codeOf(secret);
    await validate({ user: "audited", passcode });
    await validate({ user: "audited", passcode });
    const audit = await v.request("GET", "/v1/audit?user=audited&limit=10", undefined, "auditor");
    expect(audit.status).toBe(200);
    const events = audit.json.entries.map((entry: { event: string; result: string }) => `${entry.event}:${entry.result}`);
    expect(events.slice(0, 4)).toEqual(["validate:reject", "validate:accept", "challenge-response:accept", "validate:challenge"]);
    expect(audit.json.entries[0]).toMatchObject({ actor: expect.stringMatching(/^key:/), role: "portal", source: "127.0.0.1", user: "audited" });
    expect(audit.text).not.toContain(pin);
    expect(audit.text).not.toContain(passcode.slice(-6));
  });
  describe("security review (issue 8)", () => {
    const pinResetBy = (user: string) => v.request("POST", `/v1/users/${user}/pin-reset`, {}, "support");
    const emergencyFor = (user: string) => v.request("POST", `/v1/users/${user}/emergency`, {}, "support");
    /** Writes an emergency password straight to the database, as the old code let support do for a user without a PIN. */
    async function plantEmergency(user: string, password: string) {
      await v.ctx.database.db
        .insertInto("emergency_passwords")
        .values({ user_name: user, verifier: v.ctx.verifiers.emergencyVerifier(user, password), expires_at: v.clock.millis + 3_600_000, issued_at: v.clock.millis, issued_by: "test" })
        .onConflict((conflict) => conflict.column("user_name").doNothing())
        .execute();
    }

    it("finding 1: support alone cannot take over an account (pin-reset → emergency → password alone)", async () => {
      const { secret, pin } = await userWithPin("takeover");
      expect((await pinResetBy("takeover")).status).toBe(200);
      const issued = await emergencyFor("takeover");
      expect(issued.status).toBe(409);
      expect(issued.json).toMatchObject({ error: "conflict", message: expect.stringMatching(/has no PIN/) });
      // Even a password already on file (from before the fix) never stands in for the missing PIN.
      await plantEmergency("takeover", "abcdefghjk");
      for (const passcode of ["abcdefghjk", pin + "abcdefghjk"]) {
        const attempt = await validate({ user: "takeover", passcode });
        expect(attempt.json.result).toBe("reject");
      }
      expect((await v.request("GET", "/v1/users/takeover", undefined, "support")).json.pinSet).toBe(false);
      // The user's own way back is unchanged: the code alone, then a new PIN.
      expect((await validate({ user: "takeover", passcode: codeOf(secret) })).json.challenge.kind).toBe("new-pin");
    });

    it("finding 1: a freshly assigned user (no PIN yet) gets no emergency password, and one on file is useless", async () => {
      await userWithToken("fresh.takeover");
      expect((await emergencyFor("fresh.takeover")).status).toBe(409);
      await plantEmergency("fresh.takeover", "mnpqrstuvw");
      expect((await validate({ user: "fresh.takeover", passcode: "mnpqrstuvw" })).json.result).toBe("reject");
      expect((await failuresOf("fresh.takeover")).failures).toBe(1);
    });

    it("finding 1: a PIN reset revokes the active emergency password", async () => {
      const { pin } = await userWithPin("reset.revokes");
      const { password } = (await emergencyFor("reset.revokes")).json;
      expect((await validate({ user: "reset.revokes", passcode: pin + password })).json.result).toBe("accept");
      const reset = await pinResetBy("reset.revokes");
      expect(reset.json).toMatchObject({ pinSet: false, emergency: null });
      expect((await validate({ user: "reset.revokes", passcode: password })).json.result).toBe("reject");
      expect((await validate({ user: "reset.revokes", passcode: pin + password })).json.result).toBe("reject");
      const audit = await v.request("GET", "/v1/audit?user=reset.revokes&limit=20", undefined, "auditor");
      expect(audit.json.entries.find((entry: { event: string }) => entry.event === "user.pin-reset").detail).toEqual({ emergencyRevoked: true });
    });

    /** A first-use user and a new-pin challenge opened with a glimpsed code. */
    async function glimpsedChallenge(user: string) {
      const token = await userWithToken(user);
      const opened = await validate({ user, passcode: codeOf(token.secret) });
      expect(opened.json.challenge.kind).toBe("new-pin");
      return { ...token, id: opened.json.challenge.id as string };
    }

    it("finding 3: a new-pin challenge is void once the user has set their PIN (newer challenge, PIN set)", async () => {
      const { secret, id } = await glimpsedChallenge("void.pinset");
      v.clock.advance(60);
      const own = await validate({ user: "void.pinset", passcode: codeOf(secret) });
      expect((await validate({ user: "void.pinset", challenge: own.json.challenge.id, response: "583920" })).json.result).toBe("accept");
      expect((await validate({ user: "void.pinset", challenge: id, response: "740392" })).json.result).toBe("reject");
      v.clock.advance(60);
      expect((await validate({ user: "void.pinset", passcode: "583920" + codeOf(secret) })).json.result).toBe("accept");
    });

    it("finding 3: a newer challenge voids the older one; the newer one still answers", async () => {
      const { secret, id } = await glimpsedChallenge("void.newer");
      v.clock.advance(60);
      const newer = await validate({ user: "void.newer", passcode: codeOf(secret) });
      expect((await validate({ user: "void.newer", challenge: id, response: "740392" })).json.result).toBe("reject");
      expect((await validate({ user: "void.newer", challenge: newer.json.challenge.id, response: "583920" })).json.result).toBe("accept");
    });

    it.each([
      ["PIN reset", (user: string) => pinResetBy(user)],
      ["token disabled as stolen", async (_user: string, serial: string) => v.request("POST", `/v1/tokens/${serial}/disable`, { reason: "stolen" }, "support")],
      ["token unassigned", async (_user: string, serial: string) => v.request("POST", `/v1/tokens/${serial}/unassign`, {})],
      ["unlock", (user: string) => v.request("POST", `/v1/users/${user}/unlock`, {}, "support")],
      ["another token assigned", async (user: string) => userWithToken(user)],
    ])("finding 3: %s voids an open challenge", async (event, change) => {
      const user = `void.${event.split(" ")[0]!.toLowerCase()}.${event.length}`;
      const { serial, id } = await glimpsedChallenge(user);
      await change(user, serial);
      const answer = await validate({ user, challenge: id, response: "740392" });
      expect(answer.json.result).toBe("reject");
      expect((await v.request("GET", `/v1/users/${user}`, undefined, "support")).json.pinSet).toBe(false);
    });

    it("finding 3: a next-code challenge is void after its token is disabled", async () => {
      const { secret, pin, serial } = await userWithPin("void.nextcode");
      const opened = await validate({ user: "void.nextcode", passcode: pin + codeOf(secret, 5) });
      expect(opened.json.challenge.kind).toBe("next-code");
      await v.request("POST", `/v1/tokens/${serial}/disable`, { reason: "stolen" }, "support");
      await v.request("POST", `/v1/tokens/${serial}/enable`, {}, "support");
      v.clock.advance(60);
      expect((await validate({ user: "void.nextcode", challenge: opened.json.challenge.id, response: codeOf(secret, 5) })).json.result).toBe("reject");
      expect((await v.request("GET", `/v1/tokens/${serial}`)).json.offsetSteps).toBe(0);
    });

    it("finding 3: challenge ids are stored only as their SHA-256", async () => {
      const { id } = await glimpsedChallenge("hashed.id");
      const rows = await v.ctx.database.db.selectFrom("challenges").select("id").where("user_name", "=", "hashed.id").execute();
      expect(rows.map((row) => row.id)).toEqual([createHash("sha256").update(id).digest("hex")]);
      // What a database reader sees does not answer the challenge.
      expect((await validate({ user: "hashed.id", challenge: rows[0]!.id, response: "740392" })).json.result).toBe("reject");
      expect((await validate({ user: "hashed.id", challenge: id, response: "740392" })).json.result).toBe("accept");
    });

    it("finding 8: two consecutive codes typed long after they were shown do not move the offset", async () => {
      const { secret, pin, serial } = await userWithPin("stale.pair");
      v.clock.advance(600);
      // Codes the token showed 5 and 4 steps ago (never used); the second is typed 3 steps after the first.
      const opened = await validate({ user: "stale.pair", passcode: pin + codeOf(secret, -5) });
      expect(opened.json.challenge.kind).toBe("next-code");
      v.clock.advance(170);
      const answer = await validate({ user: "stale.pair", challenge: opened.json.challenge.id, response: codeOf(secret, -7) });
      expect(answer.json.result).toBe("reject");
      expect((await v.request("GET", `/v1/tokens/${serial}`)).json.offsetSteps).toBe(0);
    });

    it("finding 10: failures count per user across kinds; only a success that proved the PIN clears them", async () => {
      const { secret, pin } = await userWithPin("across.kinds");
      const { password } = (await emergencyFor("across.kinds")).json;
      for (const passcode of ["740392" + codeOf(secret), pin + "000000", "740392" + password, pin + "zzzzzzzzzz"]) {
        expect((await validate({ user: "across.kinds", passcode })).json.result).toBe("reject");
        v.clock.advance(300);
      }
      expect((await failuresOf("across.kinds")).failures).toBe(4);
      // A token thief's failures, then a PIN reset: the first-use code alone and choosing a PIN keep them.
      await pinResetBy("across.kinds");
      const first = await validate({ user: "across.kinds", passcode: codeOf(secret) });
      expect((await failuresOf("across.kinds")).failures).toBe(4);
      expect((await validate({ user: "across.kinds", challenge: first.json.challenge.id, response: "583920" })).json.result).toBe("accept");
      expect((await failuresOf("across.kinds")).failures).toBe(4);
      v.clock.advance(60);
      expect((await validate({ user: "across.kinds", passcode: "583920" + codeOf(secret) })).json.result).toBe("accept");
      expect((await failuresOf("across.kinds")).failures).toBe(0);
    });

    it("finding 10: an emergency password without the PIN cannot launder a token thief's failures", async () => {
      const { secret } = await userWithToken("launder");
      for (let failure = 0; failure < 9; failure++) {
        await validate({ user: "launder", passcode: "740392" + codeOf(secret) });
        v.clock.advance(300);
      }
      await plantEmergency("launder", "abcdefghjk");
      expect((await validate({ user: "launder", passcode: "abcdefghjk" })).json.result).toBe("reject");
      expect(await failuresOf("launder")).toMatchObject({ failures: 10, state: "locked" });
    });

    it("finding 18: a double-submitted answer is refused without counting a failure, never accepted twice", async () => {
      const { secret, id } = await glimpsedChallenge("double.submit");
      const answer = { user: "double.submit", challenge: id, response: "583920" };
      expect((await validate(answer)).json.result).toBe("accept");
      expect((await validate(answer)).json.result).toBe("reject");
      expect((await validate({ ...answer, response: "740392" })).json.result).toBe("reject");
      expect((await failuresOf("double.submit")).failures).toBe(0);
      v.clock.advance(60);
      expect((await validate({ user: "double.submit", passcode: "583920" + codeOf(secret) })).json.result).toBe("accept");

      // The same for a next-code answer, and for two copies sent at once: exactly one accept.
      const opened = await validate({ user: "double.submit", passcode: "583920" + codeOf(secret, 5) });
      v.clock.advance(60);
      const next = { user: "double.submit", challenge: opened.json.challenge.id, response: codeOf(secret, 5) };
      const answers = await Promise.all([validate(next), validate(next), validate(next)]);
      expect(answers.map((reply) => reply.json.result).sort()).toEqual(["accept", "reject", "reject"]);
      expect((await failuresOf("double.submit")).failures).toBe(0);
    });

    it("finding 11: with automatic unlock configured, a lock lifts that long after the last failure", async () => {
      const database = await testDatabase(dialect);
      const auto = await startValidator(database.location, { policy: { autoUnlockMinutes: 30 }, clock: v.clock });
      try {
        const validateAuto = (body: Record<string, string>) => auto.request("POST", "/v1/validate", body, "portal");
        const secret = randomBytes(32);
        await auto.request("POST", "/v1/tokens", { serial: "JT80000001", secretHex: secret.toString("hex") });
        await auto.request("POST", "/v1/tokens/JT80000001/assign", { user: "auto" });
        const first = await validateAuto({ user: "auto", passcode: codeOf(secret) });
        await validateAuto({ user: "auto", challenge: first.json.challenge.id, response: "583920" });
        for (let failure = 0; failure < 10; failure++) {
          await validateAuto({ user: "auto", passcode: "583920000000" });
          v.clock.advance(300);
        }
        const lockout = async () => (await auto.request("GET", "/v1/users/auto", undefined, "support")).json.lockout;
        v.clock.advance(-300 + 29 * 60);
        expect(await lockout()).toMatchObject({ state: "locked", failures: 10 });
        expect((await validateAuto({ user: "auto", passcode: "583920" + codeOf(secret) })).json.result).toBe("reject");
        v.clock.advance(60);
        expect(await lockout()).toMatchObject({ state: "open", failures: 0 });
        // The first failure after it counts one, not eleven; the PIN holder's success clears it.
        expect((await validateAuto({ user: "auto", passcode: "583920000000" })).json.result).toBe("reject");
        expect(await lockout()).toMatchObject({ state: "open", failures: 1 });
        expect((await validateAuto({ user: "auto", passcode: "583920" + codeOf(secret) })).json.result).toBe("accept");
        expect(await lockout()).toMatchObject({ state: "open", failures: 0 });
      } finally {
        await auto.close();
        await database.drop();
      }
    });

    it("finding 16: the most common PINs are refused as too common, in English and French", async () => {
      const { id } = await glimpsedChallenge("common.pin");
      for (const [pin, language, message] of [["147258", "en", /most common/], ["696969", "fr", /plus courants/]] as const) {
        const weak = await validate({ user: "common.pin", challenge: id, response: pin }, { "accept-language": language });
        expect(weak.json).toMatchObject({ result: "challenge", challenge: { id, kind: "new-pin" }, reason: "too-common" });
        expect(weak.json.message).toMatch(message);
      }
    });
  });
});
