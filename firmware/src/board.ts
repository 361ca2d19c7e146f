// What every board gives the token: a clock, a confirmation button, a display (its picture is drawn
// by face.ts) and the validity-indicator style suited to it. The board implementation is chosen at build time
// from devicescript.json "board" (scripts/build.mjs writes board.g.ts), so a build carries only
// its own board's drivers. Pin maps and wiring: hardware/boards/*.md.
import * as ds from "@devicescript/core"
import { Display } from "@devicescript/graphics"
import { CellAge } from "./cell-age"
import { Clock } from "./clock"
import { IndicatorStyle } from "./screens"

export interface Board {
    clock: Clock
    button: ds.Button
    display: Display
    indicator: IndicatorStyle
    /** called after each new picture reached the display (battery builds decide about power here) */
    afterShow?: (text: string) => Promise<void>
    /** the code is shown only after a button press (press-to-show battery build) */
    pressToShow?: boolean
    /** supply voltage, undefined when unknown; boards without a sense leave it out */
    supplyVolts?: () => Promise<number>
    /** below this supply voltage the face carries the battery-low mark */
    batteryLowVolts?: number
    /** dates the cells: old ones get the mark too (builds whose consumption is a fixed rate) */
    cellAge?: CellAge
}

/** E-ink: a 4-cell bar redraws 4 times a period; OLED: redraw every second is free. */
export const EINK_INDICATOR: IndicatorStyle = { cells: 4, showSeconds: false }
export const OLED_INDICATOR: IndicatorStyle = { cells: 10, showSeconds: true }
/** E-ink that wakes once per code (always-visible battery build): no bar to keep up to date. */
export const STATIC_INDICATOR: IndicatorStyle = { cells: 0, showSeconds: false }
