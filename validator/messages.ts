// The texts every front door shows the person logging in (HTTP answers, RADIUS Reply-Messages, the
// console's sign-in pages), in French and English: one wording whichever door they come through.
import type { WeakPinReason } from "./policy/pin-strength.js";
import type { VerificationPolicy } from "./policy/policy.js";

export type Language = "en" | "fr";

/** The first of French or English named in Accept-Language (order, not q-values, for simplicity). */
export function languageOf(acceptLanguage: string | undefined): Language {
  for (const range of (acceptLanguage ?? "").toLowerCase().split(",")) {
    const tag = range.trim().slice(0, 2);
    if (tag === "fr" || tag === "en") return tag;
  }
  return "en";
}

type Texts = ReturnType<typeof textsFor>;

/** Built once per policy: every validation answers with them, on every front door. */
const built = new WeakMap<VerificationPolicy, Texts>();

export function messages(language: Language, policy: VerificationPolicy): Texts[Language] {
  let texts = built.get(policy);
  if (!texts) {
    texts = textsFor(policy);
    built.set(policy, texts);
  }
  return texts[language];
}

function textsFor(policy: VerificationPolicy) {
  const { minLength, maxLength } = policy.pin;
  const en = {
    accept: "Authentication succeeded.",
    reject: "Authentication failed.",
    newPin: `Choose a new PIN of ${minLength} to ${maxLength} digits.`,
    nextCode: "Wait for the next code on your token and enter it.",
    weakPin: {
      "not-digits": "A PIN contains digits only.",
      "too-short": `This PIN is too short: use at least ${minLength} digits.`,
      "too-long": `This PIN is too long: use at most ${maxLength} digits.`,
      "repeated-digit": "This PIN repeats one digit: choose another.",
      sequence: "This PIN is a run of consecutive digits: choose another.",
      date: "This PIN looks like a date: choose another.",
      "too-common": "This PIN is among the most common ones: choose another.",
    } satisfies Record<WeakPinReason, string>,
  };
  const fr: typeof en = {
    accept: "Authentification réussie.",
    reject: "Authentification refusée.",
    newPin: `Choisissez un nouveau code PIN de ${minLength} à ${maxLength} chiffres.`,
    nextCode: "Attendez le code suivant sur votre clé et saisissez-le.",
    weakPin: {
      "not-digits": "Un code PIN ne contient que des chiffres.",
      "too-short": `Ce code PIN est trop court : au moins ${minLength} chiffres.`,
      "too-long": `Ce code PIN est trop long : au plus ${maxLength} chiffres.`,
      "repeated-digit": "Ce code PIN répète un seul chiffre : choisissez-en un autre.",
      sequence: "Ce code PIN est une suite de chiffres : choisissez-en un autre.",
      date: "Ce code PIN ressemble à une date : choisissez-en un autre.",
      "too-common": "Ce code PIN fait partie des plus courants : choisissez-en un autre.",
    },
  };
  return { en, fr };
}
