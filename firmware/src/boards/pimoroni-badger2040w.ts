// Pimoroni Badger 2040 W, powered all the time (USB or battery without power saving): the default
// build. Parts and pins: pimoroni-badger2040w-parts.ts.
import { Board, EINK_INDICATOR } from "../board"
import { BADGER_BATTERY_LOW_VOLTS, startBadgerParts } from "./pimoroni-badger2040w-parts"

export async function startBoard(): Promise<Board> {
    const parts = startBadgerParts(false)
    return {
        clock: parts.clock,
        button: parts.button,
        display: parts.eink,
        indicator: EINK_INDICATOR,
        supplyVolts: parts.supplyVolts,
        batteryLowVolts: BADGER_BATTERY_LOW_VOLTS,
    }
}
