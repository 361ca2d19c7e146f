import { commonPins } from "./common-pins.js";
import type { PinRules } from "./policy.js";

export type WeakPinReason = "not-digits" | "too-short" | "too-long" | "repeated-digit" | "sequence" | "date" | "too-common";

/** Why a PIN is refused, or null when it is acceptable. */
export function weakPinReason(pin: string, rules: PinRules): WeakPinReason | null {
  if (!/^[0-9]*$/.test(pin)) return "not-digits";
  if (pin.length < rules.minLength) return "too-short";
  if (pin.length > rules.maxLength) return "too-long";
  if (/^(.)\1*$/.test(pin)) return "repeated-digit";
  if (isRun(pin, 1) || isRun(pin, -1)) return "sequence";
  if (looksLikeDate(pin)) return "date";
  if (commonPins.has(pin)) return "too-common";
  return null;
}

/** 123456, 7890123 (wrapping), 654321… */
function isRun(pin: string, direction: 1 | -1): boolean {
  for (let i = 1; i < pin.length; i++) {
    if (Number(pin[i]) !== (Number(pin[i - 1]) + direction + 10) % 10) return false;
  }
  return true;
}

function isDayMonth(day: number, month: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

function isYear(year: number): boolean {
  return year >= 1900 && year <= 2099;
}

/** Birthdays and anniversaries in the layouts people type: DDMMYY, YYMMDD, MMDDYY and their 8-digit forms. */
function looksLikeDate(pin: string): boolean {
  const part = (start: number, length: number) => Number(pin.slice(start, start + length));
  if (pin.length === 6) {
    return isDayMonth(part(0, 2), part(2, 2)) || isDayMonth(part(4, 2), part(2, 2)) || isDayMonth(part(2, 2), part(0, 2));
  }
  if (pin.length === 8) {
    return (
      (isDayMonth(part(0, 2), part(2, 2)) && isYear(part(4, 4))) ||
      (isDayMonth(part(2, 2), part(0, 2)) && isYear(part(4, 4))) ||
      (isYear(part(0, 4)) && isDayMonth(part(6, 2), part(4, 2)))
    );
  }
  if (pin.length === 4) return isYear(part(0, 4)) || isDayMonth(part(0, 2), part(2, 2));
  return false;
}
