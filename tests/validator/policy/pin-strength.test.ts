import { describe, expect, it } from "vitest";
import { commonPins } from "../../../validator/policy/common-pins.js";
import { weakPinReason } from "../../../validator/policy/pin-strength.js";

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
    ["147258", "too-common"], // keypad columns
    ["159753", "too-common"], // keypad diagonals
    ["123321", "too-common"],
    ["000001", "too-common"],
    ["696969", "too-common"],
    ["5201314", "too-common"],
    ["12341234", "too-common"],
  ])("refuses %s (%s)", (pin, reason) => {
    expect(weakPinReason(pin, rules)).toBe(reason);
  });

  it("every listed common PIN is 6 to 8 digits and refused (by its own rule or an earlier one)", () => {
    expect(commonPins.size).toBeGreaterThanOrEqual(300);
    for (const pin of commonPins) {
      expect(pin).toMatch(/^[0-9]{6,8}$/);
      expect(weakPinReason(pin, rules)).not.toBeNull();
    }
  });

  it.each(["583920", "40917263", "739164"])("accepts %s", (pin) => {
    expect(weakPinReason(pin, rules)).toBeNull();
  });
});
