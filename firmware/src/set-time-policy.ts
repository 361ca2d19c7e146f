// The rule for authenticated clock corrections, separate from the Jacdac plumbing so it can be
// unit-tested: only a strictly newer counter and a small forward step are accepted; the MAC is
// checked first so an unauthenticated caller learns nothing about counter or clock.
import * as ds from "@devicescript/core"
import { constantTimeEqual, MAC_BYTES, setTimeMac } from "./token-auth"

export interface SetTimeRequest {
    time: number
    counter: number
    mac: Buffer
}

export function checkSetTime(
    request: SetTimeRequest,
    seed: Buffer,
    lastCounter: number,
    deviceTime: number | undefined,
    maxForwardSeconds: number
): ds.JetonTokenResult {
    if (!request.mac || request.mac.length !== MAC_BYTES) return ds.JetonTokenResult.BadMac
    if (!constantTimeEqual(setTimeMac(seed, request.time, request.counter), request.mac))
        return ds.JetonTokenResult.BadMac
    if (request.counter <= lastCounter) return ds.JetonTokenResult.ReplayedCounter
    if (deviceTime === undefined) return ds.JetonTokenResult.ClockUntrusted
    const step = request.time - deviceTime
    if (step < 0) return ds.JetonTokenResult.BackwardCorrection
    if (step > maxForwardSeconds) return ds.JetonTokenResult.CorrectionTooLarge
    return ds.JetonTokenResult.Ok
}
