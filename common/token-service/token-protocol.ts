// The host side of the Jeton token service (firmware/services/jeton-token.md): identifiers,
// result codes and the seed-keyed constructions, for the provisioner and the tests. Node crypto
// only; nothing here talks to a device.
import { createHmac } from "node:crypto";

export const SRV_JETON_TOKEN = 0x1e70c3a1;

export const TokenCommand = { Provision: 0x80, Wipe: 0x81, SetTime: 0x82, SetTimeTrim: 0x83 } as const;
export const TokenCommandFormat = {
  Provision: "u64 u8 z b",
  Wipe: "",
  SetTime: "u64 u32 b",
  /** time, counter (SetTime's counter space), trim in ppb (positive: the crystal runs fast), MAC */
  SetTimeTrim: "u64 u32 i32 b",
} as const;

/** The largest trim a token takes, in parts per billion (200 ppm). */
export const MAX_TRIM_PPB = 200_000;

export const TokenRegister = {
  Provisioned: 0x180,
  Serial: 0x181,
  DeviceTime: 0x182,
  FirmwareVersion: 0x183,
  Profile: 0x184,
  Algorithm: 0x185,
  SecretFingerprint: 0x186,
  SetTimeCounter: 0x187,
  ClockState: 0x188,
} as const;

export const TokenResult = {
  Ok: 0,
  BadSeedLength: 1,
  UnknownAlgorithm: 2,
  BadSerial: 3,
  AlreadyProvisioned: 4,
  NotProvisioned: 5,
  BadMac: 6,
  ReplayedCounter: 7,
  BackwardCorrection: 8,
  CorrectionTooLarge: 9,
  ClockUntrusted: 10,
  NotConfirmed: 11,
  BadTime: 12,
  StorageFailed: 13,
  Busy: 14,
} as const;
export type TokenResultName = keyof typeof TokenResult;

export function resultName(code: number): TokenResultName | `Unknown(${number})` {
  const entry = Object.entries(TokenResult).find(([, v]) => v === code);
  return entry ? (entry[0] as TokenResultName) : `Unknown(${code})`;
}

export const TokenAlgorithm = { SHA1: 1, SHA256: 2 } as const;
export type TokenAlgorithmName = keyof typeof TokenAlgorithm;

export const ClockState = { Ok: 0, NotSet: 1, IntegrityLost: 2 } as const;

export const SET_TIME_LABEL = "jeton-set-time/1";
export const SET_TIME_TRIM_LABEL = "jeton-set-time-trim/1";
export const FINGERPRINT_LABEL = "jeton-fingerprint/1";

function uintLE(value: number, bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  out.writeUIntLE(value, 0, Math.min(bytes, 6));
  return out;
}

/** HMAC-SHA-256(seed, "jeton-set-time/1" || time u64 LE || counter u32 LE) */
export function setTimeMac(seed: Uint8Array, unixSeconds: number, counter: number): Buffer {
  return createHmac("sha256", seed)
    .update(SET_TIME_LABEL)
    .update(uintLE(unixSeconds, 8))
    .update(uintLE(counter, 4))
    .digest();
}

/**
 * HMAC-SHA-256(seed, "jeton-set-time-trim/1" || time u64 LE || counter u32 LE || trim i32 LE), the trim in
 * ppb as two's complement: positive means the token's crystal runs fast and the token slows its clock.
 */
export function setTimeTrimMac(seed: Uint8Array, unixSeconds: number, counter: number, trimPpb: number): Buffer {
  if (!Number.isInteger(trimPpb) || trimPpb < -(2 ** 31) || trimPpb >= 2 ** 31) throw new RangeError(`trim ${trimPpb} ppb is not an i32`);
  const trim = Buffer.alloc(4);
  trim.writeInt32LE(trimPpb, 0);
  return createHmac("sha256", seed)
    .update(SET_TIME_TRIM_LABEL)
    .update(uintLE(unixSeconds, 8))
    .update(uintLE(counter, 4))
    .update(trim)
    .digest();
}

/** HMAC-SHA-256(seed, "jeton-fingerprint/1" || serial) */
export function secretFingerprint(seed: Uint8Array, serial: string): Buffer {
  return createHmac("sha256", seed).update(FINGERPRINT_LABEL).update(serial, "utf8").digest();
}
