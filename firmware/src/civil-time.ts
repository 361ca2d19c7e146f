// UTC calendar <-> Unix seconds, without Date (DeviceScript has no wall clock) and without 32-bit
// arithmetic, so it is exact far beyond 2038. Algorithms from H. Hinnant, "chrono-compatible
// low-level date algorithms" (proleptic Gregorian calendar).

export interface CivilTime {
    year: number
    month: number // 1..12
    day: number // 1..31
    hour: number
    minute: number
    second: number
}

const SECONDS_PER_DAY = 86400

function floorDiv(a: number, b: number): number {
    return Math.floor(a / b)
}

export function daysFromCivil(year: number, month: number, day: number): number {
    const y = month <= 2 ? year - 1 : year
    const era = floorDiv(y, 400)
    const yoe = y - era * 400
    const mp = month > 2 ? month - 3 : month + 9
    const doy = floorDiv(153 * mp + 2, 5) + day - 1
    const doe = yoe * 365 + floorDiv(yoe, 4) - floorDiv(yoe, 100) + doy
    return era * 146097 + doe - 719468
}

export function unixFromCivil(t: CivilTime): number {
    return (
        daysFromCivil(t.year, t.month, t.day) * SECONDS_PER_DAY +
        t.hour * 3600 +
        t.minute * 60 +
        t.second
    )
}

export function civilFromUnix(unixSeconds: number): CivilTime {
    const days = floorDiv(unixSeconds, SECONDS_PER_DAY)
    const secs = unixSeconds - days * SECONDS_PER_DAY
    const z = days + 719468
    const era = floorDiv(z, 146097)
    const doe = z - era * 146097
    const yoe = floorDiv(doe - floorDiv(doe, 1460) + floorDiv(doe, 36524) - floorDiv(doe, 146096), 365)
    const doy = doe - (365 * yoe + floorDiv(yoe, 4) - floorDiv(yoe, 100))
    const mp = floorDiv(5 * doy + 2, 153)
    const day = doy - floorDiv(153 * mp + 2, 5) + 1
    const month = mp < 10 ? mp + 3 : mp - 9
    const year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    return {
        year: year,
        month: month,
        day: day,
        hour: floorDiv(secs, 3600),
        minute: floorDiv(secs - floorDiv(secs, 3600) * 3600, 60),
        second: secs - floorDiv(secs, 60) * 60,
    }
}

/** 0 = Sunday .. 6 = Saturday (the RTC chips' and Jacdac's weekday convention). */
export function weekdayFromUnix(unixSeconds: number): number {
    const days = floorDiv(unixSeconds, SECONDS_PER_DAY)
    // 1970-01-01 was a Thursday (4)
    return days + 4 - floorDiv(days + 4, 7) * 7
}
