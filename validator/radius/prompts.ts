import { messages, type Language } from "../messages.js";
import type { WeakPinReason } from "../policy/pin-strength.js";
import type { VerificationPolicy } from "../policy/policy.js";

/** The texts a client may replace (some VPN concentrators recognise RSA-style prompts by their wording). */
export const promptKinds = ["accept", "reject", "new-pin", "next-code"] as const;
export type PromptKind = (typeof promptKinds)[number];
export type PromptOverrides = Partial<Record<PromptKind, string>>;

export interface Prompts {
  accept: string;
  reject: string;
  newPin: string;
  nextCode: string;
  weakPin(reason: WeakPinReason): string;
}

/**
 * Reply-Message texts for one client: the same French or English wording as the HTTP API, with the
 * client's overrides. A weak-PIN reply says why, then asks again.
 */
export function promptsFor(language: Language, overrides: PromptOverrides, policy: VerificationPolicy): Prompts {
  const text = messages(language, policy);
  const newPin = overrides["new-pin"] ?? text.newPin;
  return {
    accept: overrides.accept ?? text.accept,
    reject: overrides.reject ?? text.reject,
    newPin,
    nextCode: overrides["next-code"] ?? text.nextCode,
    weakPin: (reason) => `${text.weakPin[reason]} ${newPin}`,
  };
}
