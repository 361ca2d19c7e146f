// What every board gives the token: a clock, a confirmation button, a character screen and the
// validity-indicator style suited to its display. The board implementation is chosen at build time
// from devicescript.json "board" (scripts/build.mjs writes board.g.ts), so a build carries only
// its own board's drivers. Pin maps and wiring: hardware/boards/*.md.
import * as ds from "@devicescript/core"
import { Clock } from "./clock"
import { IndicatorStyle } from "./screens"

export interface Board {
    clock: Clock
    button: ds.Button
    screen: ds.CharacterScreen
    indicator: IndicatorStyle
}

/** E-ink: a 4-cell bar redraws 4 times a period; OLED: redraw every second is free. */
export const EINK_INDICATOR: IndicatorStyle = { cells: 4, showSeconds: false }
export const OLED_INDICATOR: IndicatorStyle = { cells: 10, showSeconds: true }
