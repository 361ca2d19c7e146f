// The SetTimeTrim MAC as agreed with the firmware (issue 12), against the byte layout written out by hand:
// HMAC-SHA-256(seed, "jeton-set-time-trim/1" || time u64 LE || counter u32 LE || trim i32 LE).
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { setTimeMac, setTimeTrimMac, TokenCommand, TokenCommandFormat } from "../../common/token-service/token-protocol.js";

const seed = Buffer.from("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "hex");

function byHand(time: string, counter: string, trim: string): string {
  const message = Buffer.concat([Buffer.from("jeton-set-time-trim/1", "ascii"), Buffer.from(time + counter + trim, "hex")]);
  return createHmac("sha256", seed).update(message).digest("hex");
}

describe("SetTimeTrim on the host", () => {
  it("is command 0x83 with payload u64 u32 i32 b", () => {
    expect(TokenCommand.SetTimeTrim).toBe(0x83);
    expect(TokenCommandFormat.SetTimeTrim).toBe("u64 u32 i32 b");
  });

  it("MACs the time, counter and trim little-endian, the trim as two's complement", () => {
    // 1 764 000 000 = 0x6924_8100; counter 7; trims +5102 (0x13ee), −5102 and −1
    const time = "0081246900000000";
    expect(setTimeTrimMac(seed, 1_764_000_000, 7, 5102).toString("hex")).toBe(byHand(time, "07000000", "ee130000"));
    expect(setTimeTrimMac(seed, 1_764_000_000, 7, -5102).toString("hex")).toBe(byHand(time, "07000000", "12ecffff"));
    expect(setTimeTrimMac(seed, 1_764_000_000, 7, -1).toString("hex")).toBe(byHand(time, "07000000", "ffffffff"));
    expect(setTimeTrimMac(seed, 1_764_000_000, 7, 0)).toHaveLength(32);
    // never the SetTime MAC of the same time and counter
    expect(setTimeTrimMac(seed, 1_764_000_000, 7, 0).equals(setTimeMac(seed, 1_764_000_000, 7))).toBe(false);
  });

  it("refuses a trim that is not an i32", () => {
    for (const trim of [2 ** 31, -(2 ** 31) - 1, 0.5, Number.NaN]) expect(() => setTimeTrimMac(seed, 1, 1, trim)).toThrow(RangeError);
  });
});
