// How long the cells in the board have been in use, for cells whose voltage cannot warn in time.
// 2 × AAA lithium (Li-FeS2) cells hold an almost flat voltage until they are nearly empty, then
// fall off a cliff: at the always-visible build's ~1 mA the last voltage-visible part of their
// charge lasts days, not weeks. That build wakes exactly once per code, so its consumption is a
// fixed rate and the time since the cells were fresh is a charge count (hardware/power-budget.ts
// gives the days). The token keeps, in flash, when it first saw the cells and the lowest supply
// voltage seen since; cells reading clearly above that lowest voltage are new ones. Flash writes:
// one per new set of cells and one per 50 mV the supply falls (about a dozen per set).
import * as ds from "@devicescript/core"
import { readSetting, writeSetting } from "@devicescript/settings"

const CELLS_KEY = "jt_cells"

/** A rise this large above the lowest voltage seen means new cells (ADC noise is a few tens of mV). */
export const FRESH_CELLS_JUMP_VOLTS = 0.15
/** The lowest voltage is stored again only when it fell this much (flash wear). */
export const LOWEST_STEP_VOLTS = 0.05
/** Above this, VSYS comes from USB (5 V through the board's diode), not from 2 cells (≤ 3.6 V fresh). */
export const USB_SUPPLY_VOLTS = 4

export interface CellRecord {
    /** UTC Unix seconds at which the token first saw these cells (with a trusted clock) */
    since: number
    /** lowest supply voltage seen since then */
    lowest: number
}

/** The record after a reading of `volts` at trusted time `now`; undefined when it stays as it is. */
export function nextCellRecord(record: CellRecord, volts: number, now: number): CellRecord {
    if (volts > USB_SUPPLY_VOLTS) return undefined
    if (!record || volts >= record.lowest + FRESH_CELLS_JUMP_VOLTS) return { since: now, lowest: volts }
    if (volts <= record.lowest - LOWEST_STEP_VOLTS) return { since: record.since, lowest: volts }
    return undefined
}

export class CellAge {
    private record: CellRecord = undefined
    private loaded = false

    /** `markAfterSeconds`: cells in use this long get the battery-low mark. */
    constructor(readonly markAfterSeconds: number) {}

    /**
     * Whether the cells are old enough for the mark, after a reading of `volts` (undefined:
     * unknown) at `now` (UTC Unix seconds, -1 while the clock is not trusted: nothing is dated).
     */
    async update(volts: number, now: number): Promise<boolean> {
        if (!this.loaded) {
            this.record = await readSetting<CellRecord>(CELLS_KEY, undefined)
            this.loaded = true
        }
        if (now < 0) return false
        if (volts !== undefined && volts !== null) {
            const next = nextCellRecord(this.record, volts, now)
            if (next) {
                await writeSetting(CELLS_KEY, next)
                this.record = next
                // tests follow the estimate through this line
                if (ds.isSimulator()) console.log(`battery: cells since ${next.since}, lowest ${next.lowest} V`)
            }
        }
        return !!this.record && now - this.record.since >= this.markAfterSeconds
    }
}
