// On-VM unit tests: RFC 6238 Appendix B vectors (SHA-1 and SHA-256, 8 and 6 digits) plus
// counters beyond 2^32 steps and beyond 2038. Run by tests/firmware/vm-unit.test.ts.
import { describe, expect, test } from "@devicescript/test"
import { ALGORITHM_SHA1, ALGORITHM_SHA256 } from "../src/algorithm"
import { sha1, hmacSha1 } from "../src/sha1"
import { counterMessage, secondsLeft, totp } from "../src/totp"

const SEED_SHA1 = Buffer.from("12345678901234567890")
const SEED_SHA256 = Buffer.from("12345678901234567890123456789012")

// [unix seconds, SHA-1 code, SHA-256 code] from RFC 6238 Appendix B (period 30, 8 digits)
const VECTORS: [number, string, string][] = [
    [59, "94287082", "46119246"],
    [1111111109, "07081804", "68084774"],
    [1111111111, "14050471", "67062674"],
    [1234567890, "89005924", "91819424"],
    [2000000000, "69279037", "90698825"],
    [20000000000, "65353130", "77737706"],
]

describe("sha1", () => {
    test("FIPS 180 'abc'", async () => {
        expect((await sha1([Buffer.from("abc")])).toString("hex")).toBe(
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        )
    })
    test("two-block message", async () => {
        const msg = Buffer.from("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
        expect((await sha1([msg])).toString("hex")).toBe(
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        )
    })
    test("RFC 2202 HMAC-SHA-1 case 2", async () => {
        const mac = await hmacSha1(Buffer.from("Jefe"), Buffer.from("what do ya want for nothing?"))
        expect(mac.toString("hex")).toBe("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
    })
    test("RFC 2202 HMAC-SHA-1 key longer than a block", async () => {
        const key = Buffer.alloc(80)
        key.fillAt(0, 80, 0xaa)
        const mac = await hmacSha1(
            key,
            Buffer.from("Test Using Larger Than Block-Size Key - Hash Key First")
        )
        expect(mac.toString("hex")).toBe("aa4ae5e15272d00e95705637ce8a3b55ed402112")
    })
})

describe("totp rfc6238", () => {
    VECTORS.forEach(v => {
        const t = v[0]
        test(`SHA1 8 digits t=${t}`, async () => {
            expect(await totp(ALGORITHM_SHA1, SEED_SHA1, t, 8, 30, 0)).toBe(v[1])
        })
        test(`SHA256 8 digits t=${t}`, async () => {
            expect(await totp(ALGORITHM_SHA256, SEED_SHA256, t, 8, 30, 0)).toBe(v[2])
        })
        test(`SHA1 6 digits t=${t}`, async () => {
            expect(await totp(ALGORITHM_SHA1, SEED_SHA1, t, 6, 30, 0)).toBe(v[1].slice(2))
        })
        test(`SHA256 6 digits t=${t}`, async () => {
            expect(await totp(ALGORITHM_SHA256, SEED_SHA256, t, 6, 30, 0)).toBe(v[2].slice(2))
        })
    })
})

describe("totp time handling", () => {
    test("counter above 2^32 is encoded big-endian in 8 bytes", () => {
        expect(counterMessage(78187493530).toString("hex")).toBe("000000123456789a")
    })
    test("counter past 2038 (signed 32-bit overflow)", () => {
        // 2040-01-01T00:00:00Z / 60 s
        expect(counterMessage(Math.floor(2208988800 / 60)).toString("hex")).toBe("000000000231c660")
    })
    test("seconds left counts down to 1 within a period", () => {
        expect(secondsLeft(120, 60, 0)).toBe(60)
        expect(secondsLeft(179, 60, 0)).toBe(1)
    })
    test("many SHA-1 codes in a row stay within the VM step budget", async () => {
        let last = ""
        for (let i = 0; i < 20; i++) last = await totp(ALGORITHM_SHA1, SEED_SHA1, 59 + i * 30, 8, 30, 0)
        expect(last.length).toBe(8)
    })
})
