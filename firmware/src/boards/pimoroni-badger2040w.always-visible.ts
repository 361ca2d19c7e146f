// Pimoroni Badger 2040 W on battery with the code always visible (devicescript.json:
// boards["pimoroni-badger2040w"].powerMode = "always-visible"). The e-ink keeps the picture without
// power, so after each redraw the token arms the PCF85063A alarm for the start of the next code and
// releases the power latch (ENABLE_3V3, GP10); the alarm (INT on GP8) powers the board again. It
// wakes once per time step: the face carries no validity bar that would need more redraws. On USB
// power the board keeps running, exactly like the stay-on build. A pending confirmation prompt
// never powers off. In the VM nothing is switched: the decision is logged ("power: ...") so tests
// can check it. Besides the voltage threshold, the mark appears once the cells have been in use
// BADGER_CELLS_MARK_AFTER_DAYS (cell-age.ts): lithium cells give no voltage warning weeks ahead.
import * as ds from "@devicescript/core"
import { pins } from "@dsboard/pico_w"
import { Board, STATIC_INDICATOR } from "../board"
import { CellAge } from "../cell-age"
import { armPcf85063aAlarm } from "../pcf85063a"
import { nextRedrawTime } from "../power-schedule"
import { PROFILE_PERIOD, PROFILE_T0 } from "../profile.g"
import { isCodeScreen, isConfirmScreen } from "../screens"
import { BADGER_BATTERY_LOW_VOLTS, startBadgerParts } from "./pimoroni-badger2040w-parts"

/**
 * Days after fresh cells at which this build shows the battery-low mark. By the power model
 * (hardware/power-budget.ts) 2 × AAA lithium cells last ≈ 46 days here: the mark leaves ≈ 18 days,
 * 2 weeks even if the board draws 10 % more than modelled. Alkaline cells reach the 2.9 V mark first.
 */
export const BADGER_CELLS_MARK_AFTER_DAYS = 28

export async function startBoard(): Promise<Board> {
    const parts = startBadgerParts(true)
    const sim = parts.sim

    async function powerDownAfterDraw(text: string) {
        if (isConfirmScreen(text)) {
            // a person is about to press the button: stay on
            if (sim) console.log("power: held (confirmation pending)")
            return
        }
        let wake = -1
        if (isCodeScreen(text)) {
            const now = await parts.clock.read()
            if (now) wake = nextRedrawTime(now.unixSeconds, PROFILE_PERIOD, PROFILE_T0, 1)
        }
        if (sim) {
            console.log(`power: ${wake >= 0 ? "wake at " + wake : "no wake-up"}, latch released`)
            return
        }
        if (wake >= 0) await armPcf85063aAlarm(parts.bus, wake)
        // on battery the board switches off here; on USB it simply keeps running
        pins.GP10.setMode(ds.GPIOMode.OutputLow)
    }

    return {
        clock: parts.clock,
        button: parts.button,
        display: parts.eink,
        indicator: STATIC_INDICATOR,
        afterShow: powerDownAfterDraw,
        supplyVolts: parts.supplyVolts,
        batteryLowVolts: BADGER_BATTERY_LOW_VOLTS,
        // built here, not in main.ts: the other images do not carry it (bytecode budget)
        cellAge: new CellAge(BADGER_CELLS_MARK_AFTER_DAYS * 86400),
    }
}
