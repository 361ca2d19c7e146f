import { ScureBase32Plugin } from "otplib";
import { z } from "zod";
import { hashAlgorithms } from "../../common/profile.js";
import { serialNumber, userId } from "../../common/identifiers.js";
import { MAX_TRIM_PPB } from "../../common/token-service/token-protocol.js";
import { disableReasons, MAX_BATCH_TOKENS } from "../operations/tokens.js";

export const passcodeRequest = z.strictObject({
  user: userId,
  passcode: z.string().min(1).max(64),
});

export const challengeResponseRequest = z.strictObject({
  user: userId,
  challenge: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "a challenge id as returned by a challenge result"),
  response: z.string().min(1).max(64),
});

const base32 = new ScureBase32Plugin();

const base32Secret = z
  .string()
  .max(256)
  .transform((text, context) => {
    try {
      return Buffer.from(base32.decode(text.replace(/\s+/g, "").replace(/=+$/, "").toUpperCase()));
    } catch {
      context.addIssue({ code: "custom", message: "not RFC 4648 base32 (A–Z, 2–7, padding optional)" });
      return z.NEVER;
    }
  });

const hexSecret = z
  .string()
  .max(256)
  .regex(/^([0-9a-fA-F]{2})+$/, "an even number of hexadecimal digits")
  .transform((text) => Buffer.from(text, "hex"));

export const tokenRegistrationRequest = z
  .strictObject({
    serial: serialNumber,
    secret: base32Secret.optional(),
    secretHex: hexSecret.optional(),
    algorithm: z.enum(hashAlgorithms).optional(),
    digits: z.number().int().min(6).max(8).optional(),
    period: z.number().int().min(10).max(300).optional(),
  })
  .superRefine((body, context) => {
    if ((body.secret === undefined) === (body.secretHex === undefined)) {
      context.addIssue({ code: "custom", path: ["secret"], message: "give exactly one of secret (base32) or secretHex" });
    }
  });

/** Several tokens registered in one transaction: all or none (`pskc import`). */
export const tokenBatchRequest = z.strictObject({ tokens: z.array(tokenRegistrationRequest).min(1).max(MAX_BATCH_TOKENS) });

/**
 * The token's set-time counter is a u32 (firmware/services/jeton-token.md); the fingerprint is its
 * secret_fingerprint register, read off the device, which proves it holds the token's seed.
 */
export const setTimeMacRequest = z.strictObject({
  time: z.number().int().min(0).max(2 ** 40),
  counter: z.number().int().min(1).max(2 ** 32 - 1),
  fingerprint: z.string().regex(/^[0-9a-fA-F]{64}$/, "the 64 hexadecimal digits of the token's secret_fingerprint register"),
});
export const setTimeTrimMacRequest = setTimeMacRequest.extend({
  trimPpb: z.number().int().min(-MAX_TRIM_PPB).max(MAX_TRIM_PPB),
});
export const setTimeConfirmation = setTimeMacRequest.extend({
  mac: z.string().regex(/^[0-9a-fA-F]{64}$/, "the 64 hexadecimal digits returned by set-time-mac or set-time-trim-mac"),
  /** present when confirming a SetTimeTrim */
  trimPpb: z.number().int().min(-MAX_TRIM_PPB).max(MAX_TRIM_PPB).optional(),
});

export const assignRequest = z.strictObject({ user: userId });
export const disableRequest = z.strictObject({ reason: z.enum(disableReasons) });
export const emptyRequest = z.strictObject({}).optional();

export const serialParams = z.strictObject({ serial: serialNumber });
export const userParams = z.strictObject({ user: userId });

export const auditQuery = z.strictObject({
  user: userId.optional(),
  serial: serialNumber.optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
