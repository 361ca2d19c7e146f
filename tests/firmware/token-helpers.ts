// Shared helpers for the firmware tests: an independent RFC 6238 implementation (Node crypto),
// the token profile, and a check that the token shows exactly the expected code.
import { createHmac, randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { repoRoot } from "../../common/token-service/devs-cli.js";
import type { TokenSim } from "../../hardware/sim/token-sim.js";

export const profile = JSON.parse(readFileSync(join(repoRoot(), "devicescript.json"), "utf8")) as {
  profile: string;
  algorithm: "SHA1" | "SHA256";
  digits: number;
  period: number;
  t0: number;
  secretLength: { SHA1: number; SHA256: number };
  clock: { maxForwardCorrectionSeconds: number };
};

export function referenceTotp(
  seed: Uint8Array,
  unixSeconds: number,
  algorithm: "SHA1" | "SHA256" = profile.algorithm,
  digits = profile.digits,
  period = profile.period,
): string {
  const counter = Math.floor((Math.floor(unixSeconds) - profile.t0) / period);
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm === "SHA1" ? "sha1" : "sha256", seed).update(msg).digest();
  const o = mac[mac.length - 1]! & 0x0f;
  const bin = mac.readUInt32BE(o) & 0x7fffffff;
  return String(bin % 10 ** digits).padStart(digits, "0");
}

export function grouped(code: string): string {
  const half = Math.floor(code.length / 2);
  return `${code.slice(0, half)} ${code.slice(half)}`;
}

export function newSeed(algorithm: "SHA1" | "SHA256" = profile.algorithm): Buffer {
  return randomBytes(profile.secretLength[algorithm]);
}

/** Reads the screen and checks it shows serial + the current code (at the RTC's time). */
export async function expectShowsCurrentCode(
  sim: TokenSim,
  serial: string,
  seed: Uint8Array,
  algorithm: "SHA1" | "SHA256" = profile.algorithm,
  digits = profile.digits,
  period = profile.period,
): Promise<string> {
  const rtc = sim.harness.rtc!;
  // The code may roll over between reading the clock and the screen, and the token redraws up to
  // a tick (250 ms) plus a streamed RTC reading (≤ 1 s) late: accept the codes of that window.
  const before = rtc.now();
  const text = await sim.token.screenText();
  const after = rtc.now();
  const accepted = [before - 2, before, after].map((t) => grouped(referenceTotp(seed, t, algorithm, digits, period)));
  const lines = text.split("\n");
  expect(lines[0]).toBe(serial);
  expect(accepted).toContain(lines[1]);
  // a validity bar, or (e-ink woken once per code) the note that the code changes every period
  expect(lines[2]).toMatch(/^\[[#-]+\]|^new code every \d+ s$/);
  return text;
}

export const SCREEN = {
  notProvisioned: "JETON\nNot provisioned\nSee help desk",
  clockNotSet: (serial: string) => `${serial}\nClock not set\nSee help desk`,
  clockLost: (serial: string) => `${serial}\nClock integrity lost\nRe-provision token`,
  confirm: (action: string) => `Press button to\n${action}\n(10 s)`,
};

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * Builds the firmware for `changes` on top of the repository's profile, in `dir`, and checks that the
 * image fits the runtime's 32 KB program budget; returns the image's path.
 */
export function buildProfileVariant(dir: string, changes: (base: typeof profile & Record<string, unknown>) => Record<string, unknown>): string {
  const base = JSON.parse(readFileSync(join(repoRoot(), "devicescript.json"), "utf8"));
  writeFileSync(join(dir, "profile.json"), JSON.stringify(changes(base)));
  execFileSync(process.execPath, [join(repoRoot(), "firmware/scripts/build.mjs"), "--profile", join(dir, "profile.json"), "--out", join(dir, "out")], {
    stdio: "ignore",
  });
  const image = join(dir, "out", "jeton.devs");
  expect(statSync(image).size).toBeLessThanOrEqual(32_768);
  return image;
}

/** The Badger build in `powerMode`. */
export function badgerInPowerMode(powerMode: "press-to-show" | "always-visible") {
  return (base: Record<string, any>) => ({
    ...base,
    board: "pimoroni-badger2040w",
    boards: { ...base.boards, "pimoroni-badger2040w": { ...base.boards["pimoroni-badger2040w"], powerMode } },
  });
}
