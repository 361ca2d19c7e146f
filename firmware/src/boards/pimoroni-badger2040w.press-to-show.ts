// Pimoroni Badger 2040 W on battery, showing the code only on request (devicescript.json:
// boards["pimoroni-badger2040w"].powerMode = "press-to-show"). At rest the e-ink says "Press for
// code" and the board is off (power latch ENABLE_3V3, GP10, released, no alarm). Button A powers it
// on; the firmware (main.ts, PressToShow) then shows the code until the end of its time step, with
// the next code too when less than 15 s are left, draws the rest screen again and switches off. On
// USB power the board keeps running and every press shows the code again. A confirmation prompt
// and a shown code keep the power on. In the VM the decision is logged ("power: ...").
import * as ds from "@devicescript/core"
import { pins } from "@dsboard/pico_w"
import { Board, EINK_INDICATOR } from "../board"
import { isCodeScreen, isConfirmScreen } from "../screens"
import { BADGER_BATTERY_LOW_VOLTS, startBadgerParts } from "./pimoroni-badger2040w-parts"

export async function startBoard(): Promise<Board> {
    const parts = startBadgerParts(true)
    const sim = parts.sim

    async function powerDownAfterDraw(text: string) {
        if (isConfirmScreen(text) || isCodeScreen(text)) {
            if (sim) console.log("power: held (" + (isCodeScreen(text) ? "code shown" : "confirmation pending") + ")")
            return
        }
        if (sim) {
            console.log("power: no wake-up, latch released")
            return
        }
        pins.GP10.setMode(ds.GPIOMode.OutputLow)
    }

    return {
        clock: parts.clock,
        button: parts.button,
        display: parts.eink,
        indicator: EINK_INDICATOR,
        afterShow: powerDownAfterDraw,
        pressToShow: true,
        supplyVolts: parts.supplyVolts,
        batteryLowVolts: BADGER_BATTERY_LOW_VOLTS,
    }
}
