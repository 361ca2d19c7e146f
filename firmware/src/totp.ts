// RFC 6238 TOTP (RFC 4226 HOTP over a time-step counter) from UTC Unix seconds.
//
// Time is a JavaScript number (double): exact for integers below 2^53, so there is no 2038 (or
// 2106) limit. The 64-bit counter is split with division, never with 32-bit bit operators.
import { hmac } from "@devicescript/crypto"
import { ALGORITHM_SHA1, ALGORITHM_SHA256 } from "./algorithm"
import { hmacSha1 } from "./sha1"

export function timeStep(unixSeconds: number, period: number, t0: number): number {
    return Math.floor((unixSeconds - t0) / period)
}

/** Seconds until the current code expires (1..period). */
export function secondsLeft(unixSeconds: number, period: number, t0: number): number {
    const elapsed = unixSeconds - t0
    return period - (elapsed - Math.floor(elapsed / period) * period)
}

/** The 8-byte big-endian counter message of RFC 4226. */
export function counterMessage(counter: number): Buffer {
    const msg = Buffer.alloc(8)
    // 2^32 spelled as a product: the DeviceScript compiler mangles literals >= 2^32
    const hi = Math.floor(counter / (65536 * 65536))
    const lo = counter - hi * 65536 * 65536
    // >>> converts through uint32, so the low word is exact even above 2^31
    for (let i = 0; i < 4; i++) {
        msg[3 - i] = (hi >>> (8 * i)) & 0xff
        msg[7 - i] = (lo >>> (8 * i)) & 0xff
    }
    return msg
}

/** RFC 4226 dynamic truncation to `digits` decimal digits, zero padded. */
export function truncate(mac: Buffer, digits: number): string {
    const offset = mac[mac.length - 1] & 0x0f
    const binary =
        (mac[offset] & 0x7f) * 0x1000000 +
        mac[offset + 1] * 0x10000 +
        mac[offset + 2] * 0x100 +
        mac[offset + 3]
    let code = "" + (binary % Math.pow(10, digits))
    while (code.length < digits) code = "0" + code
    return code
}

/** RFC 6238 code for `unixSeconds` (HOTP of the time-step counter). */
export async function totp(
    algorithm: number,
    seed: Buffer,
    unixSeconds: number,
    digits: number,
    period: number,
    t0: number
): Promise<string> {
    const msg = counterMessage(timeStep(unixSeconds, period, t0))
    let mac: Buffer
    if (algorithm === ALGORITHM_SHA256) mac = hmac(seed, "sha256", msg)
    else if (algorithm === ALGORITHM_SHA1) mac = await hmacSha1(seed, msg)
    else throw new RangeError("unknown TOTP algorithm")
    return truncate(mac, digits)
}
