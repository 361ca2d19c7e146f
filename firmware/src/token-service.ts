// The token's one custom Jacdac service (spec: firmware/services/jeton-token.md). Every command
// answers with a Result code; no command or register ever returns the seed.
import * as ds from "@devicescript/core"
import { Server, ServerOptions } from "@devicescript/server"
import { seedLengthFor } from "./algorithm"
import { Clock, EARLIEST_VALID_TIME, LATEST_VALID_TIME } from "./clock"
import { ClockMonitor } from "./clock-monitor"
import { ConfirmButton } from "./confirm-button"
import { NEXT_CODE_SECONDS } from "./press-to-show"
import {
    FIRMWARE_VERSION,
    MAX_FORWARD_CORRECTION_SECONDS,
    PROFILE_ALGORITHM,
    PROFILE_DIGITS,
    PROFILE_ID,
    PROFILE_PERIOD,
    PROFILE_T0,
} from "./profile.g"
import { isValidSerial } from "./serial-format"
import { checkSetTime } from "./set-time-policy"
import { secretFingerprint } from "./token-auth"
import { TokenRecord, TokenStore } from "./token-store"
import { secondsLeft, timeStep } from "./totp"

export interface TokenParts {
    store: TokenStore
    clock: Clock
    monitor: ClockMonitor
    confirm: ConfirmButton
    /** called after any change the screen must reflect right away (press-to-show: the code is shown) */
    changed: () => Promise<void>
    /**
     * redraws the screen as it is (a confirmation prompt appearing or going): never shows a
     * press-to-show token's code, which only a press or a change that went through may do
     */
    redraw: () => Promise<void>
}

const Result = ds.JetonTokenResult

export class JetonTokenServer extends Server implements ds.JetonTokenServerSpec {
    private busy = false

    constructor(
        readonly parts: TokenParts,
        options?: ServerOptions
    ) {
        super(ds.JetonToken.spec, options)
    }

    // Multi-field commands arrive as one array argument (DeviceScript server convention).
    async provision(args: any): Promise<ds.JetonTokenResult> {
        const [time, algorithm, serial, seed] = args as [number, number, string, Buffer]
        const expectedLength = seedLengthFor(algorithm)
        if (expectedLength === 0) return Result.UnknownAlgorithm
        if (!seed || seed.length !== expectedLength) return Result.BadSeedLength
        if (!isValidSerial(serial)) return Result.BadSerial
        if (!(time >= EARLIEST_VALID_TIME && time <= LATEST_VALID_TIME)) return Result.BadTime
        // one state-changing command at a time: another one during a confirmation gets Busy
        if (this.busy) return Result.Busy
        this.busy = true
        try {
            const parts = this.parts
            const asked = ds.millis()
            if (parts.store.isProvisioned()) {
                const ok = await parts.confirm.confirm("re-provision", parts.redraw)
                if (!ok) return Result.AlreadyProvisioned
            }
            return await this.commit(
                {
                    algorithm: algorithm,
                    serial: serial,
                    seedHex: seed.toString("hex"),
                    counter: 0,
                    // a new token starts untrimmed (the chip's Offset register back to 0)
                    trimPpb: await parts.clock.trim(0),
                    trimEpoch: 0,
                    heldStep: 0,
                },
                time,
                asked
            )
        } finally {
            this.busy = false
        }
    }

    async wipe(): Promise<ds.JetonTokenResult> {
        const parts = this.parts
        if (!parts.store.isProvisioned()) return Result.NotProvisioned
        if (this.busy) return Result.Busy
        this.busy = true
        try {
            if (!(await parts.confirm.confirm("wipe", parts.redraw))) return Result.NotConfirmed
            await parts.store.erase()
        } finally {
            this.busy = false
        }
        await parts.changed()
        return Result.Ok
    }

    async setTime(args: any): Promise<ds.JetonTokenResult> {
        return await this.correctClock(args[0], args[1], undefined, args[2])
    }

    async setTimeTrim(args: any): Promise<ds.JetonTokenResult> {
        return await this.correctClock(args[0], args[1], args[2], args[3])
    }

    /** set_time (trim undefined) and set_time_trim: checked by set-time-policy.ts. */
    private async correctClock(time: number, counter: number, trim: number, mac: Buffer): Promise<ds.JetonTokenResult> {
        const parts = this.parts
        const store = parts.store
        if (!store.isProvisioned()) return Result.NotProvisioned
        if (this.busy) return Result.Busy
        this.busy = true
        try {
            const verdict = await parts.monitor.evaluate(await parts.clock.read(), ds.millis())
            const deviceTime = verdict.state === ds.JetonTokenClockState.Ok ? verdict.time : undefined
            const token = store.token
            let result = checkSetTime(
                { time: time, counter: counter, mac: mac, trim: trim },
                store.seed(),
                token.counter,
                deviceTime,
                MAX_FORWARD_CORRECTION_SECONDS
            )
            let heldStep = token.heldStep
            const asked = ds.millis()
            if (result === Result.NotConfirmed) {
                // going back: the codes of the steps already displayed must never be shown again,
                // the next step's too when it may have been shown beside the current one (press-to-show)
                const current = timeStep(deviceTime, PROFILE_PERIOD, PROFILE_T0)
                const shown = secondsLeft(deviceTime, PROFILE_PERIOD, PROFILE_T0) < NEXT_CODE_SECONDS ? current + 1 : current
                if (!(heldStep >= shown)) heldStep = shown
                if (await parts.confirm.confirm("set clock back", parts.redraw)) result = Result.Ok
            }
            if (result !== Result.Ok) return result
            return await this.commit(
                {
                    algorithm: token.algorithm,
                    serial: token.serial,
                    seedHex: token.seedHex,
                    counter: counter,
                    // what the chip's trim register cannot take is applied when reading the clock
                    trimPpb: trim === undefined ? token.trimPpb : await parts.clock.trim(trim),
                    trimEpoch: 0,
                    heldStep: heldStep,
                },
                time,
                asked
            )
        } finally {
            this.busy = false
        }
    }

    /**
     * Sets the clock to `time` plus the time since `asked` (a button confirmation takes seconds;
     * the host's time was right when it asked) and stores the token record, the software trim
     * counting from this time; the clock monitor knows the token itself moved the clock, so this
     * is not taken for a jump.
     */
    private async commit(record: TokenRecord, time: number, asked: number): Promise<ds.JetonTokenResult> {
        const parts = this.parts
        time += Math.round((ds.millis() - asked) / 1000)
        record.trimEpoch = time
        parts.monitor.beginWrite()
        let setMillis = ds.millis()
        try {
            // record first: a reading between the two is then trimmed from the new epoch
            await parts.store.saveToken(record)
            await parts.clock.set(time)
            setMillis = ds.millis()
            await parts.store.saveClock({ lost: false, lastTrusted: time })
        } catch (e) {
            return Result.StorageFailed
        } finally {
            parts.monitor.endWrite(time, setMillis)
        }
        await parts.changed()
        return Result.Ok
    }

    provisioned(): boolean {
        return this.parts.store.isProvisioned()
    }

    serial(): string {
        return this.parts.store.isProvisioned() ? this.parts.store.token.serial : ""
    }

    async deviceTime(): Promise<number> {
        const verdict = await this.parts.monitor.evaluate(await this.parts.clock.read(), ds.millis())
        return verdict.state === ds.JetonTokenClockState.Ok ? verdict.time : 0
    }

    firmwareVersion(): string {
        return FIRMWARE_VERSION
    }

    profile(): string {
        return `${PROFILE_ID} ${PROFILE_ALGORITHM} ${PROFILE_DIGITS} ${PROFILE_PERIOD} ${PROFILE_T0} ${MAX_FORWARD_CORRECTION_SECONDS}`
    }

    algorithm(): number {
        return this.parts.store.isProvisioned() ? this.parts.store.token.algorithm : 0
    }

    secretFingerprint(): Buffer {
        const store = this.parts.store
        if (!store.isProvisioned()) return Buffer.alloc(0)
        return secretFingerprint(store.seed(), store.token.serial)
    }

    setTimeCounter(): number {
        return this.parts.store.isProvisioned() ? this.parts.store.token.counter : 0
    }

    async clockState(): Promise<ds.JetonTokenClockState> {
        const verdict = await this.parts.monitor.evaluate(await this.parts.clock.read(), ds.millis())
        return verdict.state
    }
}
