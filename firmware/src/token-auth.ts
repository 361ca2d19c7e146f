// Host-verifiable constructions keyed with the seed (documented in firmware/README.md so the
// provisioner can implement them):
//  - set-time MAC  = HMAC-SHA-256(seed, "jeton-set-time/1" || time u64 LE || counter u32 LE)
//  - set-time-trim MAC = HMAC-SHA-256(seed, "jeton-set-time-trim/1" || time u64 LE || counter u32 LE
//                     || trim ppb i32 LE)
//  - fingerprint   = HMAC-SHA-256(seed, "jeton-fingerprint/1" || serial UTF-8)
// Both are one-way: neither reveals the seed nor lets anyone compute codes.
import { hmac } from "@devicescript/crypto"

export const SET_TIME_LABEL = "jeton-set-time/1"
export const SET_TIME_TRIM_LABEL = "jeton-set-time-trim/1"
export const FINGERPRINT_LABEL = "jeton-fingerprint/1"
export const MAC_BYTES = 32

/** Little-endian unsigned integer of 4 or 8 bytes; exact up to 2^53. */
export function uintLE(value: number, bytes: number): Buffer {
    const out = Buffer.alloc(bytes)
    // 2^32 spelled as a product: the DeviceScript compiler mangles literals >= 2^32
    const hi = Math.floor(value / (65536 * 65536))
    out.setAt(0, "u32", value - hi * 65536 * 65536)
    if (bytes > 4) out.setAt(4, "u32", hi)
    return out
}

/** The set_time MAC, or with `trimPpb` the set_time_trim MAC (one function: image size). */
export function setTimeMac(seed: Buffer, unixSeconds: number, counter: number, trimPpb?: number): Buffer {
    let label = SET_TIME_LABEL
    let trim = Buffer.alloc(0)
    if (trimPpb !== undefined) {
        label = SET_TIME_TRIM_LABEL
        trim = Buffer.alloc(4)
        trim.setAt(0, "i32", trimPpb)
    }
    return hmac(seed, "sha256", Buffer.from(label), uintLE(unixSeconds, 8), uintLE(counter, 4), trim)
}

export function secretFingerprint(seed: Buffer, serial: string): Buffer {
    return hmac(seed, "sha256", Buffer.from(FINGERPRINT_LABEL), Buffer.from(serial))
}

/** Compares without an early exit, so timing does not reveal how many MAC bytes matched. */
export function constantTimeEqual(a: Buffer, b: Buffer): boolean {
    if (a.length !== b.length) return false
    let diff = 0
    for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i]
    return diff === 0
}
