import { createHash } from "node:crypto";
import { NodeCryptoPlugin } from "@otplib/plugin-crypto-node";
import { generateSync } from "otplib";
import { describe, expect, it } from "vitest";
import { codeAt, stepAt } from "../../../validator/policy/totp.js";

// RFC 6238 Appendix B: seeds are the ASCII digits "1234567890" repeated to the hash's key length, period 30, 8 digits.
const seeds = {
  SHA1: Buffer.from("12345678901234567890"),
  SHA256: Buffer.from("12345678901234567890123456789012"),
  SHA512: Buffer.from("1234567890123456789012345678901234567890123456789012345678901234"),
} as const;

const vectors: [number, Record<keyof typeof seeds, string>][] = [
  [59, { SHA1: "94287082", SHA256: "46119246", SHA512: "90693936" }],
  [1111111109, { SHA1: "07081804", SHA256: "68084774", SHA512: "25091201" }],
  [1111111111, { SHA1: "14050471", SHA256: "67062674", SHA512: "99943326" }],
  [1234567890, { SHA1: "89005924", SHA256: "91819424", SHA512: "93441116" }],
  [2000000000, { SHA1: "69279037", SHA256: "90698825", SHA512: "38618901" }],
  [20000000000, { SHA1: "65353130", SHA256: "77737706", SHA512: "47863826" }],
];

describe("RFC 6238 Appendix B", () => {
  for (const [time, expected] of vectors) {
    for (const algorithm of ["SHA1", "SHA256", "SHA512"] as const) {
      it(`${algorithm} at T=${time}`, () => {
        const parameters = { algorithm, digits: 8, period: 30, t0: 0 };
        expect(codeAt(seeds[algorithm], stepAt(time * 1000, parameters), parameters)).toBe(expected[algorithm]);
      });
    }
  }

  it("6-digit codes are the last six digits of the 8-digit ones", () => {
    const parameters = { algorithm: "SHA256" as const, digits: 6, period: 30, t0: 0 };
    expect(codeAt(seeds.SHA256, stepAt(59_000, parameters), parameters)).toBe("119246");
  });

  it("steps count from T0 with 60-second periods beyond 2038", () => {
    expect(stepAt(Date.UTC(2040, 0, 1) , { period: 60, t0: 0 })).toBe(Math.floor(Date.UTC(2040, 0, 1) / 60_000));
    expect(stepAt(90_000, { period: 60, t0: 30 })).toBe(1);
  });
});

const otplibAlgorithm = { SHA1: "sha1", SHA256: "sha256", SHA512: "sha512" } as const;

describe("codes beside an independent implementation", () => {
  it("agrees with otplib's HOTP for every algorithm and length, including counters above 2^32", () => {
    const steps = [0, 1, 29_000_000, 0xffff_ffff, 0x1_0000_0000, 0x1_2345_6789, 2 ** 40 + 17];
    for (const algorithm of ["SHA1", "SHA256", "SHA512"] as const) {
      for (const digits of [6, 7, 8] as const) {
        for (const step of steps) {
          const secret = createHash("sha512").update(`${algorithm}/${digits}/${step}`).digest();
          const expected = generateSync({ strategy: "hotp", secret, counter: step, algorithm: otplibAlgorithm[algorithm], digits, crypto: new NodeCryptoPlugin() });
          expect(codeAt(secret, step, { algorithm, digits, period: 30, t0: 0 })).toBe(expected);
        }
      }
    }
  });
});
