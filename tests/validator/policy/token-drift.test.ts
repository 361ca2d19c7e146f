// Clock drift over HTTP (issue 12), on both dialects: the next-code challenge window of a rarely used token
// grows from its stored last acceptance; the validator records when a token's clock was set, to what, and
// the trim it applies, and signs a SetTimeTrim bound by its MAC like a set-time.
import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { secretFingerprint, setTimeMac, setTimeTrimMac } from "../../../common/token-service/token-protocol.js";
import { referenceCode, referenceStep } from "../../support/reference-totp.js";
import { dialects, validatorForSuite, type RunningValidator } from "../../support/test-validator.js";

const WEEK = 7 * 86_400;

describe.each(dialects)("token clock drift on %s", (dialect) => {
  let v: RunningValidator;
  validatorForSuite(dialect, (started) => (v = started));

  const now = () => Math.round(v.clock.millis / 1000);
  const validate = (body: Record<string, string>) => v.request("POST", "/v1/validate", body, "portal");
  const codeOf = (secret: Buffer, drift = 0) => referenceCode(secret, referenceStep(v.clock.millis) + drift);
  const seeds = new Map<string, Buffer>();
  /** What the token's secret_fingerprint register reads, which a correction must carry. */
  const fingerprintOf = (serial: string) => secretFingerprint(seeds.get(serial)!, serial).toString("hex");
  const tokenOf = async (serial: string) => (await v.request("GET", `/v1/tokens/${serial}`)).json;
  async function snapshot() {
    const db = v.ctx.database.db;
    return {
      audit: (await db.selectFrom("audit_log").select(db.fn.countAll().as("n")).executeTakeFirstOrThrow()).n,
      tokens: await db.selectFrom("tokens").selectAll().orderBy("serial").execute(),
    };
  }

  /** A user through first use with PIN 583920: the token was just accepted. */
  async function userWithPin(user: string, serial: string) {
    const secret = randomBytes(32);
    seeds.set(serial, secret);
    expect((await v.request("POST", "/v1/tokens", { serial, secretHex: secret.toString("hex") })).status).toBe(201);
    expect((await v.request("POST", `/v1/tokens/${serial}/assign`, { user })).status).toBe(200);
    const first = await validate({ user, passcode: codeOf(secret) });
    expect((await validate({ user, challenge: first.json.challenge.id, response: "583920" })).json.result).toBe("accept");
    v.clock.advance(60);
    return secret;
  }

  describe("clock set and trim", () => {
    const seed = randomBytes(32);
    const serial = "TRIM-1";
    beforeAll(async () => {
      seeds.set(serial, seed);
      expect((await v.request("POST", "/v1/tokens", { serial, secretHex: seed.toString("hex") })).status).toBe(201);
      await v.ctx.database.db.updateTable("tokens").set({ offset_steps: -2 }).where("serial", "=", serial).execute();
    });

    it("the OpenAPI document lists set-time-trim-mac", async () => {
      const openapi = await v.request("GET", "/v1/openapi.json");
      expect(Object.keys(openapi.json.paths)).toContain("/v1/tokens/{serial}/set-time-trim-mac");
    });

    it("a registration records its clock as set now; a PSKC batch, whose clocks were set elsewhere, as unknown", async () => {
      expect((await tokenOf(serial)).clock).toEqual({ setAt: new Date(v.clock.millis).toISOString(), setTo: now(), trimPpb: 0 });
      const batch = await v.request("POST", "/v1/tokens/batch", { tokens: [{ serial: "PSKC-1", secretHex: randomBytes(20).toString("hex") }] });
      expect(batch.json.tokens[0].clock).toEqual({ setAt: null, setTo: null, trimPpb: 0 });
    });

    it("refuses a trim beyond ±200 ppm or not in whole ppb, signing nothing", async () => {
      const before = await snapshot();
      for (const trimPpb of [200_001, -200_001, 1.5, 2 ** 31]) {
        const answer = await v.request("POST", `/v1/tokens/${serial}/set-time-trim-mac`, { fingerprint: fingerprintOf(serial), time: now(), counter: 1, trimPpb });
        expect(answer.status, String(trimPpb)).toBe(400);
        expect(answer.json.mac).toBeUndefined();
      }
      expect((await v.request("POST", `/v1/tokens/${serial}/set-time-trim-mac`, { fingerprint: fingerprintOf(serial), time: now(), counter: 1 })).status).toBe(400);
      expect((await v.request("POST", `/v1/tokens/${serial}/set-time-trim-mac`, { fingerprint: fingerprintOf(serial), time: now(), counter: 1, trimPpb: 5000 }, "support")).status).toBe(403);
      expect((await v.request("POST", `/v1/tokens/${serial}/set-time-trim-mac`, { fingerprint: fingerprintOf(serial), time: now() - 60, counter: 1, trimPpb: 5000 })).status).toBe(400);
      expect(await snapshot()).toEqual(before);
    });

    it("signs a SetTimeTrim with the seed; only its confirmation records the trim, the set time and resets the offset", async () => {
      v.clock.advance(93 * 86_400);
      const time = now();
      const signed = await v.request("POST", `/v1/tokens/${serial}/set-time-trim-mac`, { fingerprint: fingerprintOf(serial), time, counter: 1, trimPpb: -5102 });
      expect(signed.status).toBe(200);
      expect(signed.json).toEqual({ serial, time, counter: 1, trimPpb: -5102, mac: setTimeTrimMac(seed, time, 1, -5102).toString("hex") });
      // Not a SetTime's MAC, nor another trim's: the token checks the trim under the MAC.
      expect(signed.json.mac).not.toBe(setTimeMac(seed, time, 1).toString("hex"));
      expect(signed.json.mac).not.toBe(setTimeTrimMac(seed, time, 1, 5102).toString("hex"));
      const unchanged = await tokenOf(serial);
      expect(unchanged.offsetSteps).toBe(-2);
      expect(unchanged.clock.trimPpb).toBe(0);

      const before = await snapshot();
      const confirm = (body: Record<string, unknown>) => v.request("POST", `/v1/tokens/${serial}/clock-confirmed`, { fingerprint: fingerprintOf(serial), ...body });
      // The trim MAC confirmed as a plain set-time, or with another trim, is refused.
      expect((await confirm({ time, counter: 1, mac: signed.json.mac })).status).toBe(400);
      expect((await confirm({ time, counter: 1, trimPpb: -5101, mac: signed.json.mac })).status).toBe(400);
      expect((await confirm({ time, counter: 1, trimPpb: -5102, mac: setTimeMac(seed, time, 1).toString("hex") })).status).toBe(400);
      expect(await snapshot()).toEqual(before);

      v.clock.advance(3);
      const confirmed = await confirm({ time, counter: 1, trimPpb: -5102, mac: signed.json.mac });
      expect(confirmed.status).toBe(200);
      expect(confirmed.json).toMatchObject({ offsetSteps: 0, clock: { setAt: new Date(v.clock.millis).toISOString(), setTo: time, trimPpb: -5102 } });
      const audit = await v.request("GET", `/v1/audit?serial=${serial}&limit=3`, undefined, "auditor");
      expect(audit.json.entries.slice(0, 2)).toMatchObject([
        { event: "token.clock-confirmed", detail: { time, counter: 1, trimPpb: -5102, previousTrimPpb: 0, previousOffsetSteps: -2 } },
        { event: "token.set-time-trim-signed", detail: { time, counter: 1, trimPpb: -5102 } },
      ]);
      expect(JSON.stringify(audit.json)).not.toContain(signed.json.mac);

      // A later plain set-time keeps the trim and records the new set time.
      v.clock.advance(86_400);
      const later = now();
      const plain = await v.request("POST", `/v1/tokens/${serial}/set-time-mac`, { fingerprint: fingerprintOf(serial), time: later, counter: 2 });
      expect((await confirm({ time: later, counter: 2, mac: plain.json.mac })).json.clock).toEqual({ setAt: new Date(v.clock.millis).toISOString(), setTo: later, trimPpb: -5102 });
    });
  });

  it("a confirmed clock correction voids a next-code challenge opened on the old clock (its answer would teach the old offset back)", async () => {
    const serial = "RESYNC-VOID";
    const secret = await userWithPin("resynced", serial);
    v.clock.advance(600);
    // The token runs 4 minutes slow: a next-code challenge.
    const opened = await validate({ user: "resynced", passcode: "583920" + codeOf(secret, -4) });
    expect(opened.json).toMatchObject({ result: "challenge", challenge: { kind: "next-code" } });
    // The help desk resyncs it (signed set-time, applied by the token, confirmed).
    const time = now();
    const signed = await v.request("POST", `/v1/tokens/${serial}/set-time-mac`, { fingerprint: fingerprintOf(serial), time, counter: 1 });
    expect((await v.request("POST", `/v1/tokens/${serial}/clock-confirmed`, { fingerprint: fingerprintOf(serial), time, counter: 1, mac: signed.json.mac })).json.offsetSteps).toBe(0);
    v.clock.advance(60);
    const answered = await validate({ user: "resynced", challenge: opened.json.challenge.id, response: codeOf(secret, -4) });
    expect(answered.json.result).toBe("reject");
    expect((await tokenOf(serial)).offsetSteps).toBe(0);
  });

  describe("rarely used tokens", () => {
    it("a token unused for 26 weeks answers a code 30 steps off with a next-code challenge; the next code moves the offset", async () => {
      const secret = await userWithPin("drawer", "DRAWER-1");
      v.clock.advance(26 * WEEK);
      const opened = await validate({ user: "drawer", passcode: "583920" + codeOf(secret, -30) });
      expect(opened.json).toMatchObject({ result: "challenge", challenge: { kind: "next-code" } });
      expect((await tokenOf("DRAWER-1")).offsetSteps).toBe(0);
      v.clock.advance(60);
      const answered = await validate({ user: "drawer", challenge: opened.json.challenge.id, response: codeOf(secret, -30) });
      expect(answered.json.result).toBe("accept");
      expect((await tokenOf("DRAWER-1")).offsetSteps).toBe(-30);
      // Just accepted: the window is back to ±10 around the new offset.
      v.clock.advance(60);
      expect((await validate({ user: "drawer", passcode: "583920" + codeOf(secret, -30 + 12) })).json.result).toBe("reject");
      expect((await validate({ user: "drawer", passcode: "583920" + codeOf(secret, -30) })).json.result).toBe("accept");
    });

    it("a token in daily use is refused the same code; a token never used grows its window from its registration", async () => {
      const daily = await userWithPin("daily", "DAILY-1");
      expect((await validate({ user: "daily", passcode: "583920" + codeOf(daily, -30) })).json.result).toBe("reject");
      expect((await v.request("GET", "/v1/users/daily", undefined, "support")).json.lockout.failures).toBe(1);

      const unused = randomBytes(32);
      expect((await v.request("POST", "/v1/tokens", { serial: "SPARE-1", secretHex: unused.toString("hex") })).status).toBe(201);
      expect((await v.request("POST", "/v1/tokens/SPARE-1/assign", { user: "spare" })).status).toBe(200);
      v.clock.advance(30 * WEEK);
      // First use (no PIN yet): the code alone, 28 steps off, opens a next-code challenge, then the new-pin one.
      const opened = await validate({ user: "spare", passcode: codeOf(unused, 28) });
      expect(opened.json).toMatchObject({ result: "challenge", challenge: { kind: "next-code" } });
      v.clock.advance(60);
      const next = await validate({ user: "spare", challenge: opened.json.challenge.id, response: codeOf(unused, 28) });
      expect(next.json).toMatchObject({ result: "challenge", challenge: { kind: "new-pin" } });
      expect((await tokenOf("SPARE-1")).offsetSteps).toBe(28);
    });
  });
});
