// Decides when the face carries the battery-low mark, from the supply voltage. A little hysteresis
// keeps a supply hovering at the threshold (or ADC noise) from redrawing the e-ink back and forth.

export const BATTERY_HYSTERESIS_VOLTS = 0.1

export class BatteryMonitor {
    low = false

    constructor(readonly lowVolts: number) {}

    /** `volts` undefined (no reading) changes nothing. */
    update(volts: number): boolean {
        if (volts === undefined || volts === null) return this.low
        if (volts < this.lowVolts) this.low = true
        else if (volts >= this.lowVolts + BATTERY_HYSTERESIS_VOLTS) this.low = false
        return this.low
    }
}
