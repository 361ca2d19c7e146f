import { describe, expect, it } from "vitest";
import { weakPinReason } from "../../validator/policy/pin-strength.js";

const rules = { minLength: 6, maxLength: 12 };

describe("weak-PIN policy", () => {
  it.each([
    ["12a456", "not-digits"],
    ["12345", "too-short"],
    ["1234567890123", "too-long"],
    ["777777", "repeated-digit"],
    ["123456", "sequence"],
    ["654321", "sequence"],
    ["890123", "sequence"],
    ["241290", "date"], // DDMMYY
    ["901224", "date"], // YYMMDD
    ["12241990", "date"], // MMDDYYYY
    ["24121990", "date"], // DDMMYYYY
    ["19901224", "date"], // YYYYMMDD
  ])("refuses %s (%s)", (pin, reason) => {
    expect(weakPinReason(pin, rules)).toBe(reason);
  });

  it.each(["583920", "40917263", "739164"])("accepts %s", (pin) => {
    expect(weakPinReason(pin, rules)).toBeNull();
  });
});
