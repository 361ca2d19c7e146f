// The rule for authenticated clock corrections, separate from the Jacdac plumbing so it can be
// unit-tested: only a strictly newer counter and a small step are accepted; the MAC is checked
// first so an unauthenticated caller learns nothing about counter or clock. A plain set-time only
// moves the clock forward; a set-time with a drift trim may also move it back by the same bound,
// once a person confirms it on the token (a fast crystal is the only reason to go back).
import * as ds from "@devicescript/core"
import { constantTimeEqual, MAC_BYTES, setTimeMac } from "./token-auth"

/** Largest drift trim accepted, in parts per billion (200 ppm: far beyond any working crystal). */
export const MAX_TRIM_PPB = 200000

export interface SetTimeRequest {
    time: number
    counter: number
    mac: Buffer
    /** set_time_trim only: the crystal's drift in ppb (positive = fast) */
    trim?: number
}

/**
 * Ok, a refusal, or NotConfirmed for an authenticated backward step within the bound: the caller
 * asks for the button and applies it only when pressed.
 */
export function checkSetTime(
    request: SetTimeRequest,
    seed: Buffer,
    lastCounter: number,
    deviceTime: number | undefined,
    maxCorrectionSeconds: number
): ds.JetonTokenResult {
    const trim = request.trim
    if (!request.mac || request.mac.length !== MAC_BYTES) return ds.JetonTokenResult.BadMac
    if (!constantTimeEqual(setTimeMac(seed, request.time, request.counter, trim), request.mac))
        return ds.JetonTokenResult.BadMac
    if (request.counter <= lastCounter) return ds.JetonTokenResult.ReplayedCounter
    if (trim > MAX_TRIM_PPB || trim < -MAX_TRIM_PPB) return ds.JetonTokenResult.CorrectionTooLarge
    if (deviceTime === undefined) return ds.JetonTokenResult.ClockUntrusted
    const step = request.time - deviceTime
    if (step > maxCorrectionSeconds) return ds.JetonTokenResult.CorrectionTooLarge
    if (step >= 0) return ds.JetonTokenResult.Ok
    if (trim === undefined || step < -maxCorrectionSeconds) return ds.JetonTokenResult.BackwardCorrection
    return ds.JetonTokenResult.NotConfirmed
}
