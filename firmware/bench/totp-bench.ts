// VM cost of one TOTP (run from firmware/: see README "Figures"). Not a test: prints ms per code.
// The VM panics past ~128k opcodes in one synchronous slice (SHA-256 never yields by itself), so the
// loop yields after every code; the yield's own cost is measured and subtracted.
import * as ds from "@devicescript/core"
import { ALGORITHM_SHA1, ALGORITHM_SHA256 } from "../src/algorithm"
import { totp } from "../src/totp"

const SEED_SHA1 = Buffer.from("12345678901234567890")
const SEED_SHA256 = Buffer.from("12345678901234567890123456789012")
const N = 500

async function yieldCost(): Promise<number> {
    const start = ds.millis()
    for (let i = 0; i < N; i++) await ds.sleep(0)
    return ds.millis() - start
}

async function bench(name: string, algorithm: number, seed: Buffer, overhead: number) {
    const start = ds.millis()
    for (let i = 0; i < N; i++) {
        await totp(algorithm, seed, 1795712709 + i * 60, 6, 60, 0)
        await ds.sleep(0)
    }
    const ms = ds.millis() - start - overhead
    console.log(`bench ${name}: ${N} codes in ${ms} ms (yields subtracted) = ${Math.round((ms / N) * 1000) / 1000} ms per TOTP`)
}

const overhead = await yieldCost()
console.log(`bench yield: ${N} x sleep(0) = ${overhead} ms`)

await bench("SHA256", ALGORITHM_SHA256, SEED_SHA256, overhead)
await bench("SHA1", ALGORITHM_SHA1, SEED_SHA1, overhead)
