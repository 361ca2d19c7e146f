// HMAC-SHA-1 in plain TypeScript. DeviceScript's native crypto only offers SHA-256, but RFC 6238
// interoperability (and existing SHA-1 validators) needs SHA-1 tokens too.
//
// One SHA-1 compression costs roughly 12-15k VM opcodes and the VM panics (uncatchable) past
// ~128k opcodes in one synchronous slice, so every compression is followed by a yield. That keeps
// each slice small no matter how long the message is, and lets other fibers (display, Jacdac
// traffic) run between blocks.
import * as ds from "@devicescript/core"

const BLOCK_BYTES = 64
const DIGEST_BYTES = 20
const TWO_POW_32 = 65536 * 65536

function readU32BE(buf: Buffer, offset: number): number {
    return (
        (buf[offset] << 24) |
        (buf[offset + 1] << 16) |
        (buf[offset + 2] << 8) |
        buf[offset + 3]
    )
}

function writeU32BE(buf: Buffer, offset: number, value: number) {
    buf[offset] = (value >> 24) & 0xff
    buf[offset + 1] = (value >> 16) & 0xff
    buf[offset + 2] = (value >> 8) & 0xff
    buf[offset + 3] = value & 0xff
}

function rotl(x: number, n: number): number {
    return (x << n) | (x >>> (32 - n))
}

/** Processes one 64-byte block at `offset` of `data` into `state` (5 int32 words). */
function compress(state: number[], w: number[], data: Buffer, offset: number) {
    for (let i = 0; i < 16; i++) w[i] = readU32BE(data, offset + 4 * i)
    for (let i = 16; i < 80; i++)
        w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1)
    let a = state[0]
    let b = state[1]
    let c = state[2]
    let d = state[3]
    let e = state[4]
    for (let i = 0; i < 80; i++) {
        let f: number
        let k: number
        if (i < 20) {
            f = (b & c) | (~b & d)
            k = 0x5a827999
        } else if (i < 40) {
            f = b ^ c ^ d
            k = 0x6ed9eba1
        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d)
            k = 0x8f1bbcdc
        } else {
            f = b ^ c ^ d
            k = 0xca62c1d6
        }
        const t = (rotl(a, 5) + f + e + k + w[i]) | 0
        e = d
        d = c
        c = rotl(b, 30)
        b = a
        a = t
    }
    state[0] = (state[0] + a) | 0
    state[1] = (state[1] + b) | 0
    state[2] = (state[2] + c) | 0
    state[3] = (state[3] + d) | 0
    state[4] = (state[4] + e) | 0
}

/** SHA-1 of the concatenation of `parts`; yields to the scheduler after every block. */
export async function sha1(parts: Buffer[]): Promise<Buffer> {
    let length = 0
    for (const p of parts) length += p.length
    // message + 0x80 + zero padding + 64-bit bit length, rounded up to whole blocks
    const padded = Buffer.alloc(Math.ceil((length + 9) / BLOCK_BYTES) * BLOCK_BYTES)
    let pos = 0
    for (const p of parts) {
        padded.blitAt(pos, p, 0, p.length)
        pos += p.length
    }
    padded[length] = 0x80
    const bits = length * 8
    const end = padded.length
    // bit length as 64-bit big-endian; split with division because bit operators are 32-bit
    // (and because the DeviceScript compiler mangles literals >= 2^32 such as 0x100000000)
    const hi = Math.floor(bits / TWO_POW_32)
    writeU32BE(padded, end - 8, hi)
    writeU32BE(padded, end - 4, bits - hi * TWO_POW_32)

    const state = [0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476, 0xc3d2e1f0 | 0]
    const w: number[] = []
    for (let offset = 0; offset < end; offset += BLOCK_BYTES) {
        compress(state, w, padded, offset)
        await ds.sleep(0)
    }
    const out = Buffer.alloc(DIGEST_BYTES)
    for (let i = 0; i < 5; i++) writeU32BE(out, 4 * i, state[i])
    return out
}

/** HMAC-SHA-1 (RFC 2104). */
export async function hmacSha1(key: Buffer, message: Buffer): Promise<Buffer> {
    if (key.length > BLOCK_BYTES) key = await sha1([key])
    const ipad = Buffer.alloc(BLOCK_BYTES)
    const opad = Buffer.alloc(BLOCK_BYTES)
    for (let i = 0; i < BLOCK_BYTES; i++) {
        const k = i < key.length ? key[i] : 0
        ipad[i] = k ^ 0x36
        opad[i] = k ^ 0x5c
    }
    const inner = await sha1([ipad, message])
    return await sha1([opad, inner])
}
