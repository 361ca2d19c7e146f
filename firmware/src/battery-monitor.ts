// Decides when the face carries the battery-low mark: below a supply voltage, or (builds that
// date their cells, see cell-age.ts) once the cells have been in use long enough. A little
// hysteresis keeps a supply hovering at the threshold (or ADC noise) from redrawing the e-ink
// back and forth.
import { CellAge } from "./cell-age"

export const BATTERY_HYSTERESIS_VOLTS = 0.1

export class BatteryMonitor {
    private lowVoltage = false

    constructor(readonly lowVolts: number, readonly cells?: CellAge) {}

    /** `volts` undefined (no reading) leaves the voltage decision as it was; `now` as in CellAge. */
    async update(volts: number, now: number): Promise<boolean> {
        if (volts !== undefined && volts !== null) {
            if (volts < this.lowVolts) this.lowVoltage = true
            else if (volts >= this.lowVolts + BATTERY_HYSTERESIS_VOLTS) this.lowVoltage = false
        }
        const old = this.cells ? await this.cells.update(volts, now) : false
        return this.lowVoltage || old
    }
}
