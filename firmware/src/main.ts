// Jeton token firmware entry point: board parts, the token service, and the screen loop.
import * as ds from "@devicescript/core"
import { startCharacterScreen } from "@devicescript/drivers"
import { startServer } from "@devicescript/server"
import { startBoard } from "./board.g"
import { ClockMonitor } from "./clock-monitor"
import { ConfirmButton } from "./confirm-button"
import { BatteryMonitor } from "./battery-monitor"
import { TokenDisplay } from "./display"
import { drawFace } from "./face"
import { JetonFaceServer } from "./face-server"
import { PROFILE_DIGITS, PROFILE_PERIOD, PROFILE_T0 } from "./profile.g"
import {
    clockLostScreen,
    clockNotSetScreen,
    codeScreen,
    confirmScreen,
    notProvisionedScreen,
    waitScreen,
    sleepingScreen,
    withBatteryLow,
} from "./screens"
import { NEXT_CODE_SECONDS, PressToShow } from "./press-to-show"
import { JetonTokenServer } from "./token-service"
import { TokenStore } from "./token-store"
import { secondsLeft, timeStep, totp } from "./totp"

const TICK_MS = 250

const board = await startBoard()
const store = new TokenStore()
await store.load()
const monitor = new ClockMonitor(store)
const confirm = new ConfirmButton(board.button)
const pressToShow = board.pressToShow ? new PressToShow(board.button, confirm) : undefined
const battery = board.supplyVolts ? new BatteryMonitor(board.batteryLowVolts, board.cellAge) : undefined
// The screen text goes to a CharacterScreen (what tests and the provisioner read), its drawn
// picture to the display and, through the face service, to hosts that want the pixels. The text
// is published after the picture is drawn, so a host that sees it can read the matching pixels.
await board.display.init()
const face = new JetonFaceServer(board.display.image)
startServer(face, { roleName: "face" })
const screen = await startCharacterScreen(async () => {}, { rows: 4, columns: 24 })
const display = new TokenDisplay(async text => {
    drawFace(board.display.image, text)
    face.frames++
    await board.display.show()
    await screen.message.write(text)
    if (board.afterShow) await board.afterShow(text)
})

// codes are computed once per time step (SHA-1 is ~1 ms of VM time), not once per tick
let cachedStep = -1
let cachedSeedHex = ""
let cachedCode = ""
let cachedNext = ""

/** UTC Unix seconds of the screen being built when the clock is trusted, else -1 (dates the cells). */
let trustedTime = -1

async function currentScreen(): Promise<string> {
    trustedTime = -1
    const text = await tokenScreen()
    if (battery && (await battery.update(await board.supplyVolts(), trustedTime))) return withBatteryLow(text)
    return text
}

async function tokenScreen(): Promise<string> {
    if (confirm.pending) return confirmScreen(confirm.pending)
    if (!store.isProvisioned()) return notProvisionedScreen()
    const token = store.token
    const verdict = await monitor.evaluate(await board.clock.read(), ds.millis())
    if (verdict.state === ds.JetonTokenClockState.Ok) trustedTime = verdict.time
    if (verdict.state === ds.JetonTokenClockState.IntegrityLost) return clockLostScreen(token.serial)
    if (verdict.state !== ds.JetonTokenClockState.Ok) return clockNotSetScreen(token.serial)
    const step = timeStep(verdict.time, PROFILE_PERIOD, PROFILE_T0)
    if (step <= token.heldStep) return waitScreen(token.serial)
    if (pressToShow && !pressToShow.showing(verdict.time, PROFILE_T0 + (step + 1) * PROFILE_PERIOD))
        return sleepingScreen(token.serial)
    if (step !== cachedStep || token.seedHex !== cachedSeedHex) {
        cachedCode = await totp(
            token.algorithm,
            store.seed(),
            verdict.time,
            PROFILE_DIGITS,
            PROFILE_PERIOD,
            PROFILE_T0
        )
        cachedNext = ""
        cachedStep = step
        cachedSeedHex = token.seedHex
    }
    const left = secondsLeft(verdict.time, PROFILE_PERIOD, PROFILE_T0)
    if (pressToShow && left < NEXT_CODE_SECONDS && !cachedNext)
        cachedNext = await totp(
            token.algorithm,
            store.seed(),
            verdict.time + PROFILE_PERIOD,
            PROFILE_DIGITS,
            PROFILE_PERIOD,
            PROFILE_T0
        )
    return codeScreen(
        token.serial,
        cachedCode,
        left,
        PROFILE_PERIOD,
        board.indicator,
        pressToShow && left < NEXT_CODE_SECONDS ? cachedNext : undefined
    )
}

let refreshing = false
/**
 * One refresh at a time (a slow RTC read or e-ink update must not interleave two). A periodic
 * tick skips if one is running; a state change waits for it, then redraws, so the screen is up
 * to date when a command's report is sent.
 */
async function refresh(waitForRunning: boolean) {
    if (refreshing && !waitForRunning) return
    while (refreshing) await ds.sleep(5)
    refreshing = true
    try {
        await display.show(await currentScreen())
    } finally {
        refreshing = false
    }
}

// the first screen is drawn and published before the token service is announced: a host that finds
// the token always finds a screen
await refresh(true)
startServer(
    new JetonTokenServer({
        store: store,
        clock: board.clock,
        monitor: monitor,
        confirm: confirm,
        changed: async () => {
            // a host that just provisioned or corrected the clock reads the code off the display
            if (pressToShow) pressToShow.request()
            await refresh(true)
        },
        // a prompt refused or left unanswered shows no code: a host could otherwise read a
        // press-to-show token's code by asking for a wipe nobody confirms
        redraw: async () => {
            await refresh(true)
        },
    }),
    { roleName: "token" }
)

setInterval(async () => {
    await refresh(false)
}, TICK_MS)
