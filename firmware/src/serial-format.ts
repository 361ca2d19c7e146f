// Serial-number format check. DeviceScript has no RegExp, so the build compiles the profile's
// serialNumber.pattern into SERIAL_STEPS (see scripts/build.mjs) and this walks those steps.
import { SERIAL_STEPS } from "./profile.g"

export function isValidSerial(serial: string): boolean {
    if (typeof serial !== "string") return false
    let pos = 0
    for (const step of SERIAL_STEPS) {
        for (let i = 0; i < step.count; i++) {
            if (pos >= serial.length) return false
            if (step.chars.indexOf(serial.charAt(pos)) < 0) return false
            pos++
        }
    }
    return pos === serial.length
}
