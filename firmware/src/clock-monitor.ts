// Decides whether the token may trust its clock. "Integrity lost" is latched in flash (a reboot
// must not hide it) and only provisioning clears it. Causes: the chip's own flag (oscillator stop /
// voltage low), a time outside what a set clock can show, the clock going below the last time the
// token knew to be right, or the clock moving away from the CPU's monotonic millisecond timer
// (a jump, or a rate far beyond crystal drift) since the last clock write or boot.
import * as ds from "@devicescript/core"
import { ClockReading, EARLIEST_VALID_TIME, LATEST_VALID_TIME } from "./clock"
import { trimmedTime } from "./software-trim"
import { TokenStore } from "./token-store"

/** RTC seconds are whole and a Jacdac read may lag, so allow this much disagreement. */
export const JUMP_TOLERANCE_SECONDS = 3
/**
 * Rate difference allowed between RTC and CPU timer: two crystals of ±100 ppm each. A clock
 * running faster or slower than that (tampered or failing oscillator) is not trusted.
 */
export const MAX_RATE_ERROR = 200e-6
/** How often the last trusted time is written to flash (wear: a few writes a day). */
export const TRUST_PERSIST_INTERVAL_SECONDS = 6 * 3600
/** How long after writing the clock a stale reading is tolerated. */
export const WRITE_GRACE_MS = 3000

export interface ClockVerdict {
    state: ds.JetonTokenClockState
    /** UTC Unix seconds when state is Ok */
    time: number
}

export class ClockMonitor {
    /** RTC reading and CPU time of the anchor all later readings are compared against */
    private anchorRtc = -1
    private anchorMillis = 0
    private writing = false
    /** time the token last wrote to the clock, until a reading confirms the chip took it */
    private writtenTime = -1
    private writtenMillis = 0

    constructor(readonly store: TokenStore) {}

    /**
     * The token itself is about to set the clock (provision, set-time): until endWrite() the
     * screen loop may see old or new time, and neither is a jump to latch.
     */
    beginWrite() {
        this.writing = true
        this.anchorRtc = -1
    }

    /**
     * The clock was set to `writtenTime` at CPU time `setMillis`: that write is the anchor later
     * readings are checked against (not the first reading after it, which may predate the write).
     */
    endWrite(writtenTime: number, setMillis: number) {
        this.writing = false
        this.writtenTime = writtenTime
        this.writtenMillis = setMillis
        this.anchorRtc = writtenTime
        this.anchorMillis = setMillis
    }

    async evaluate(reading: ClockReading | undefined, nowMillis: number): Promise<ClockVerdict> {
        const clock = this.store.clock
        if (clock.lost) return { state: ds.JetonTokenClockState.IntegrityLost, time: 0 }
        if (!reading) return { state: ds.JetonTokenClockState.NotSet, time: 0 }
        const token = this.store.token
        let t = reading.unixSeconds
        if (token && token.trimPpb) t = trimmedTime(t, token.trimPpb, token.trimEpoch)
        if (this.writing) return { state: ds.JetonTokenClockState.Ok, time: t }
        if (this.writtenTime >= 0) {
            // Right after a write the RTC client may still hold a reading from before it (sensor
            // readings are streamed, up to a second old): trust the written time until a reading
            // agrees with it, and latch a loss if none does within the grace period.
            const expected = this.writtenTime + (nowMillis - this.writtenMillis) / 1000
            if (Math.abs(t - expected) <= JUMP_TOLERANCE_SECONDS) {
                this.writtenTime = -1
            } else if (nowMillis - this.writtenMillis < WRITE_GRACE_MS) {
                return { state: ds.JetonTokenClockState.Ok, time: Math.floor(expected) }
            } else {
                this.writtenTime = -1
                t = -1 // the chip did not take the time we wrote: treat as lost below
            }
        }
        let lost = reading.integrityLost || t < EARLIEST_VALID_TIME || t > LATEST_VALID_TIME
        if (t < clock.lastTrusted - JUMP_TOLERANCE_SECONDS) lost = true
        if (this.anchorRtc >= 0) {
            const elapsed = (nowMillis - this.anchorMillis) / 1000
            const allowed = JUMP_TOLERANCE_SECONDS + elapsed * MAX_RATE_ERROR
            if (Math.abs(t - (this.anchorRtc + elapsed)) > allowed) lost = true
        }
        if (lost) {
            if (this.store.isProvisioned()) {
                await this.store.saveClock({ lost: true, lastTrusted: clock.lastTrusted })
                return { state: ds.JetonTokenClockState.IntegrityLost, time: 0 }
            }
            // an unprovisioned token has nothing to protect: just report the clock as unset
            this.anchorRtc = -1
            return { state: ds.JetonTokenClockState.NotSet, time: 0 }
        }
        if (this.anchorRtc < 0) {
            this.anchorRtc = t
            this.anchorMillis = nowMillis
        }
        if (this.store.isProvisioned() && t - clock.lastTrusted >= TRUST_PERSIST_INTERVAL_SECONDS)
            await this.store.saveClock({ lost: false, lastTrusted: t })
        return { state: ds.JetonTokenClockState.Ok, time: t }
    }
}
