// Drift trim applied when the clock is read, for the part of a trim the RTC chip cannot take: all of
// it on the PCF8563 (no Offset register), what the 4.34 ppm Offset steps leave on the PCF85063A.
// The correction grows from the moment the clock was last set (`epoch`), when it is zero.

/** The reading corrected for a crystal `ppb` parts per billion fast (negative: slow). */
export function trimmedTime(reading: number, ppb: number, epoch: number): number {
    return reading - Math.round((ppb * (reading - epoch)) / 1e9)
}
