// The one rule for user identifiers and token serial numbers, shared by every front door of the validator
// and by the provisioner, so that what one part accepts every other part accepts and can route.
import { z } from "zod";

export const USER_ID_MAX_LENGTH = 128;
export const SERIAL_MAX_LENGTH = 64;

const USER_ID_RULE = `1–${USER_ID_MAX_LENGTH} letters, digits or . _ @ + -`;
const SERIAL_RULE = `1–${SERIAL_MAX_LENGTH} letters, digits or - _ .`;

/** Academic identifiers: letters, digits and the punctuation of logins and e-mail addresses. */
const userIdText = new RegExp(`^[A-Za-z0-9._@+-]{1,${USER_ID_MAX_LENGTH}}$`);
/** Third-party serials vary. */
const serialText = new RegExp(`^[A-Za-z0-9._-]{1,${SERIAL_MAX_LENGTH}}$`);
/** "." and ".." are URL dot-segments: clients resolve them away (RFC 3986 §5.2.4), so no path can name them. */
const dotSegment = /^\.\.?$/;

/**
 * Identifiers are compared case-insensitively: this is the one spelling stored and compared. The
 * character set is checked on the text as given, before folding, so that no other character (the Kelvin
 * sign folds to "k") can become a letter of someone's identifier.
 */
export function normaliseUserId(text: string): string {
  return text.normalize("NFC").toLowerCase();
}

const refuseSurroundingSpaces = (text: string, context: z.RefinementCtx) => {
  if (text.trim() !== "" && text !== text.trim()) context.addIssue({ code: "custom", message: "no spaces before or after the identifier" });
};
const refuseDotSegments = (text: string, context: z.RefinementCtx) => {
  if (dotSegment.test(text)) context.addIssue({ code: "custom", message: '"." and ".." cannot be identifiers: no URL can name them' });
};

/** A user identifier as given at a front door → its normalised form (see normaliseUserId). */
export const userId = z
  .string()
  .superRefine(refuseSurroundingSpaces)
  .regex(userIdText, USER_ID_RULE)
  .superRefine(refuseDotSegments)
  .transform(normaliseUserId);

/** A token serial number; serials keep their case (a third-party serial is printed as it is). */
export const serialNumber = z.string().superRefine(refuseSurroundingSpaces).regex(serialText, SERIAL_RULE).superRefine(refuseDotSegments);
