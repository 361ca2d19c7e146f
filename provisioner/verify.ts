// Checks a freshly written token without reading the seed back (the token never returns it):
// the serial and algorithm registers, the seed fingerprint (HMAC keyed with the seed), the device
// clock against the reference clock, and the code on the display against the code the validator
// will expect. Each check is reported, so a failure says exactly what was wrong.
import { timingSafeEqual } from "node:crypto";
import type { TokenClient } from "../common/token-service/token-client.js";
import { ClockState, secretFingerprint, TokenAlgorithm as AlgorithmCode } from "../common/token-service/token-protocol.js";
import { codeAt, stepAt } from "../validator/policy/totp.js";
import type { ReferenceClock } from "./reference-clock.js";
import type { ProvisionerProfile, TokenAlgorithm } from "./token-profile.js";

/** The device clock must agree with the reference clock within this many seconds. */
export const MAX_CLOCK_OFFSET_SECONDS = 2;

export interface Check {
  name: "provisioned" | "serial" | "algorithm" | "fingerprint" | "clock" | "displayed-code";
  ok: boolean;
  detail: string;
}

export interface Verification {
  ok: boolean;
  checks: Check[];
  /** device time minus reference time, in seconds */
  clockOffsetSeconds: number;
}

export interface ExpectedToken {
  serial: string;
  seed: Uint8Array;
  algorithm: TokenAlgorithm;
}

/** The code line of the token's screen ("123 456" under the serial), digits only. */
export function displayedCode(screen: string, serial: string, digits: number): string | undefined {
  const lines = screen.split("\n");
  if (lines[0] !== serial) return undefined;
  const code = (lines[1] ?? "").replace(/\s+/g, "");
  return new RegExp(`^\\d{${digits}}$`).test(code) ? code : undefined;
}

/** Device time minus reference time (s), read between two reference readings. */
export async function measureClockOffset(token: TokenClient, clock: ReferenceClock): Promise<{ deviceTime: number; offsetSeconds: number }> {
  const before = clock.now();
  const deviceTime = await token.deviceTime();
  const after = clock.now();
  // the device reports whole seconds: compare with the reference second at the read's midpoint
  return { deviceTime, offsetSeconds: deviceTime === 0 ? Number.NaN : deviceTime - Math.floor((before + after) / 2000) };
}

export async function verifyToken(
  token: TokenClient,
  expected: ExpectedToken,
  profile: ProvisionerProfile,
  clock: ReferenceClock,
): Promise<Verification> {
  const checks: Check[] = [];
  const add = (name: Check["name"], ok: boolean, detail: string) => checks.push({ name, ok, detail });

  add("provisioned", await token.provisioned(), "the token reports it holds a seed");
  const serial = await token.serial();
  add("serial", serial === expected.serial, serial === expected.serial ? serial : `token reports "${serial}", expected ${expected.serial}`);
  const algorithm = await token.algorithm();
  add("algorithm", algorithm === AlgorithmCode[expected.algorithm], algorithm === AlgorithmCode[expected.algorithm] ? expected.algorithm : `token reports algorithm ${algorithm}`);
  const fingerprint = await token.secretFingerprint();
  const want = secretFingerprint(expected.seed, expected.serial);
  const sameSeed = fingerprint.length === want.length && timingSafeEqual(fingerprint, want);
  add("fingerprint", sameSeed, sameSeed ? "the token holds the seed that was written" : "the seed fingerprint differs: the token does not hold the seed that was written");

  const clockState = await token.clockState();
  const { offsetSeconds } = await measureClockOffset(token, clock);
  const clockOk = clockState === ClockState.Ok && Math.abs(offsetSeconds) <= MAX_CLOCK_OFFSET_SECONDS;
  add(
    "clock",
    clockOk,
    clockState !== ClockState.Ok
      ? `the token does not trust its clock (state ${clockState})`
      : `device clock ${offsetSeconds >= 0 ? "+" : ""}${offsetSeconds} s from the reference (allowed ±${MAX_CLOCK_OFFSET_SECONDS} s)`,
  );

  // The code shown is what the user will type: it must be the code the validator computes.
  const parameters = { algorithm: expected.algorithm, digits: profile.digits, period: profile.period, t0: profile.t0 };
  const before = clock.now();
  let screen = "";
  try {
    screen = await token.waitForScreen((text) => displayedCode(text, expected.serial, profile.digits) !== undefined, 3_000);
  } catch {
    screen = await token.screenText().catch(() => "");
  }
  const after = clock.now();
  const shown = displayedCode(screen, expected.serial, profile.digits);
  // Near a step boundary the token may still show the previous code (its clock may be up to the allowed
  // offset behind, and it redraws a moment after the boundary) or already the next one: any step within
  // that tolerance of the reference readings is right.
  const tolerance = (MAX_CLOCK_OFFSET_SECONDS + 1) * 1000;
  const candidates = new Set<string>();
  for (let step = stepAt(before - tolerance, parameters); step <= stepAt(after + tolerance, parameters); step++) {
    candidates.add(codeAt(expected.seed, step, parameters));
  }
  const codeOk = shown !== undefined && candidates.has(shown);
  add("displayed-code", codeOk, codeOk ? "the display shows the expected code" : shown === undefined ? `the display shows no code for ${expected.serial}` : "the display shows a different code than expected");

  return { ok: checks.every((c) => c.ok), checks, clockOffsetSeconds: offsetSeconds };
}
