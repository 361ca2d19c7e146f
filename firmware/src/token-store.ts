// Persistent token state in the DeviceScript settings store (flash). Note: settings are readable
// by any USB host that speaks the settings service; see hardware/threat-model.md.
import { deleteSetting, readSetting, writeSetting } from "@devicescript/settings"

const TOKEN_KEY = "jt_token"
const CLOCK_KEY = "jt_clock"

export interface TokenRecord {
    algorithm: number
    serial: string
    seedHex: string
    /** last accepted set-time counter */
    counter: number
    /** drift (ppb, positive = fast) corrected in software when the clock is read (software-trim.ts) */
    trimPpb: number
    /** time the clock was last set: the software trim counts from there */
    trimEpoch: number
    /** last time step displayed before the clock was set back: no code is shown up to it */
    heldStep: number
}

export interface ClockRecord {
    /** latched "clock integrity lost"; only provisioning clears it */
    lost: boolean
    /** last time (UTC Unix seconds) the token knew to be right; the clock may never go below it */
    lastTrusted: number
}

export class TokenStore {
    token: TokenRecord = undefined
    clock: ClockRecord = { lost: false, lastTrusted: 0 }

    async load() {
        this.token = await readSetting<TokenRecord>(TOKEN_KEY, undefined)
        this.clock = await readSetting<ClockRecord>(CLOCK_KEY, { lost: false, lastTrusted: 0 })
    }

    isProvisioned(): boolean {
        return !!this.token
    }

    seed(): Buffer {
        return Buffer.from(this.token.seedHex, "hex")
    }

    async saveToken(record: TokenRecord) {
        await writeSetting(TOKEN_KEY, record)
        this.token = record
    }

    async saveClock(record: ClockRecord) {
        await writeSetting(CLOCK_KEY, record)
        this.clock = record
    }

    async erase() {
        await deleteSetting(TOKEN_KEY)
        await deleteSetting(CLOCK_KEY)
        this.token = undefined
        this.clock = { lost: false, lastTrusted: 0 }
    }
}
