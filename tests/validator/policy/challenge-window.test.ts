// Rarely used tokens (issue 12): the next-code challenge window grows with the time since the token was
// last accepted; the direct window, replay, and the finding-8 bound follow it coherently.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { loadProfile } from "../../../common/profile.js";
import { answerChallenge } from "../../../validator/policy/answer-challenge.js";
import { challengeWindowAt } from "../../../validator/policy/challenge-window.js";
import { defaultPolicy } from "../../../validator/policy/policy.js";
import type { ChallengeState, TokenState, UserState } from "../../../validator/policy/state.js";
import { verifyPasscode } from "../../../validator/policy/verify-passcode.js";
import { masterKeyFrom } from "../../../validator/secrets/master-key.js";
import { verifierChecks } from "../../../validator/secrets/verifiers.js";
import { referenceCode, referenceStep } from "../../support/reference-totp.js";

const policy = defaultPolicy(loadProfile(), "Europe/Paris");
const checks = verifierChecks(masterKeyFrom(randomBytes(32)));
const now = Date.UTC(2026, 10, 26, 8, 0, 30);
const step = referenceStep(now);
const DAY = 86_400_000;
const PIN = "583920";
const pinVerifier = checks.pinVerifier("jdupont", PIN);

function user(tokenOverrides: Partial<TokenState>): UserState {
  const token: TokenState = { serial: "JT00000001", secret: randomBytes(32), parameters: policy.token, offset: 0, lastStep: null, ...tokenOverrides };
  return { user: "jdupont", known: true, pinVerifier, lockout: { failures: 0, lastFailureAt: null }, epoch: 1, tokens: [token], emergency: null };
}

const login = (state: UserState, codeStep: number) =>
  verifyPasscode(state, { passcode: PIN + referenceCode(state.tokens[0]!.secret, codeStep), newChallengeId: "c1" }, now, policy, checks);

function challengeFor(opener: number): ChallengeState {
  return { id: "c1", user: "jdupont", kind: "next-code", serial: "JT00000001", step: opener, openedAt: now, expiresAt: now + 180_000, epoch: 1, answered: false };
}

const answer = (state: UserState, opener: number) =>
  answerChallenge(state, { challenge: challengeFor(opener), response: referenceCode(state.tokens[0]!.secret, opener + 1), newChallengeId: "n" }, now, policy, checks);

describe("challenge window of a rarely used token", () => {
  it("grows one step per week since the last acceptance, from ±10 up to ±30", () => {
    const at = (idleDays: number | null) => challengeWindowAt({ lastAcceptedAt: idleDays === null ? null : now - idleDays * DAY }, now, policy);
    expect(at(null)).toBe(10);
    expect(challengeWindowAt({}, now, policy)).toBe(10);
    expect(at(0)).toBe(10);
    expect(at(6.9)).toBe(10);
    expect(at(7)).toBe(11);
    expect(at(19 * 7)).toBe(29);
    expect(at(20 * 7)).toBe(30);
    expect(at(26 * 7)).toBe(30);
    expect(at(1000)).toBe(30);
    // A last acceptance in the future (another instance's clock) never shrinks the window below the base.
    expect(at(-30)).toBe(10);
  });

  it("a token unused for six months gets a next-code challenge, not a refusal, and the offset stays", () => {
    const drawer = user({ lastAcceptedAt: now - 26 * 7 * DAY, lastStep: step - 26 * 7 * 1440 });
    const outcome = login(drawer, step - 30);
    expect(outcome.decision).toMatchObject({ result: "challenge", kind: "next-code" });
    expect(outcome.change).toEqual({ createChallenge: expect.objectContaining({ serial: "JT00000001", step: step - 30 }) });
    expect(outcome.change.acceptStep).toBeUndefined();
    // The same code from a token used yesterday is out of its ±10 window: refused, a failure counted.
    const daily = user({ secret: drawer.tokens[0]!.secret, lastAcceptedAt: now - DAY });
    expect(login(daily, step - 30)).toEqual({ decision: { result: "reject", reason: "bad-passcode" }, change: { failures: "increment" } });
    // Answering with the next code moves the offset.
    expect(answer(drawer, step - 30).change.acceptStep).toEqual({ serial: "JT00000001", step: step - 29, offset: -29 });
  });

  it("the direct window never grows", () => {
    const drawer = user({ lastAcceptedAt: now - 400 * DAY });
    expect(login(drawer, step + 1).decision).toMatchObject({ result: "accept" });
    expect(login(drawer, step + 2).decision).toMatchObject({ result: "challenge", kind: "next-code" });
  });

  it("stops at ±30 steps however long the token was unused", () => {
    const drawer = user({ lastAcceptedAt: now - 1000 * DAY });
    expect(login(drawer, step + 30).decision).toMatchObject({ result: "challenge" });
    expect(login(drawer, step - 30).decision).toMatchObject({ result: "challenge" });
    expect(login(drawer, step + 31).decision).toEqual({ result: "reject", reason: "bad-passcode" });
    expect(login(drawer, step - 31).decision).toEqual({ result: "reject", reason: "bad-passcode" });
  });

  it("replay is unchanged: a step at or before the last accepted one is refused", () => {
    const drawer = user({ lastAcceptedAt: now - 26 * 7 * DAY, lastStep: step - 30 });
    expect(login(drawer, step - 30).decision).toEqual({ result: "reject", reason: "bad-passcode" });
    expect(login(drawer, step - 31).decision).toEqual({ result: "reject", reason: "bad-passcode" });
  });

  it("finding 8's bound follows the grown window: a challenge moves the offset at most the current window", () => {
    const secret = randomBytes(32);
    const idle = (days: number) => user({ secret, lastAcceptedAt: now - days * DAY });
    // Unused 16 weeks: window ±26.
    expect(answer(idle(16 * 7), step + 25).change.acceptStep).toMatchObject({ offset: 26 });
    expect(answer(idle(16 * 7), step + 26).decision).toEqual({ result: "reject", reason: "wrong-next-code" });
    // The same challenge answered for a token accepted yesterday (its window is back to ±10) is refused.
    expect(answer(idle(1), step + 20).decision).toEqual({ result: "reject", reason: "wrong-next-code" });
    expect(answer(idle(1), step + 9).change.acceptStep).toMatchObject({ offset: 10 });
  });
});
