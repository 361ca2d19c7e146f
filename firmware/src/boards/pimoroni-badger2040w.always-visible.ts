// Pimoroni Badger 2040 W on battery with the code always visible (devicescript.json:
// boards["pimoroni-badger2040w"].powerMode = "always-visible"). The e-ink keeps the picture without
// power, so after each redraw the token arms the PCF85063A alarm for the next change of the screen
// (next bar cell or next code) and releases the power latch (ENABLE_3V3, GP10); the alarm (INT on
// GP8) powers the board again. On USB power the board keeps running, exactly like the stay-on
// build. A pending confirmation prompt never powers off. In the VM nothing is switched: the
// decision is logged ("power: ...") so tests can check it. Pins as in pimoroni-badger2040w.ts.
import * as ds from "@devicescript/core"
import { UC8151Driver } from "@devicescript/drivers"
import { Image } from "@devicescript/graphics"
import { configureHardware, startButton } from "@devicescript/servers"
import { spi } from "@devicescript/spi"
import { pins } from "@dsboard/pico_w"
import { Board, EINK_INDICATOR } from "../board"
import { armPcf85063aAlarm, Pcf85063aClock, PCF85063A_ADDRESS } from "../pcf85063a"
import { nextRedrawTime } from "../power-schedule"
import { PROFILE_PERIOD, PROFILE_T0 } from "../profile.g"
import { I2cRegisterBus } from "../register-bus"
import { SimulatedRtcClock } from "../simulated-rtc-clock"

/** "123 456": the second screen line holds a code (digits and one space) */
function isCodeLine(line: string): boolean {
    if (!line || line.length < 3) return false
    for (let i = 0; i < line.length; i++) {
        const c = line.charAt(i)
        if (c !== " " && "0123456789".indexOf(c) < 0) return false
    }
    return true
}

export async function startBoard(): Promise<Board> {
    const sim = ds.isSimulator()
    if (!sim) {
        // hold the power latch while working (the RTC alarm or a button only pulses it on)
        pins.GP10.setMode(ds.GPIOMode.OutputHigh)
        configureHardware({ i2c: { pinSDA: pins.GP4, pinSCL: pins.GP5 }, log: { pinTX: pins.GP0 } })
        spi.configure({ miso: pins.GP16, mosi: pins.GP19, sck: pins.GP18, hz: 8000000 })
    }
    // The same set-up as pimoroni-badger2040w.ts, kept inline: sharing it as a function adds 64 bytes to
    // the stay-on image, which sits at the 32 KB budget (32 736 of 32 768 bytes).
    const eink = new UC8151Driver(Image.alloc(296, 128, 1), {
        cs: pins.GP17,
        dc: pins.GP20,
        reset: pins.GP21,
        busy: pins.GP26,
        flip: false,
        spi: spi,
    })
    const bus = new I2cRegisterBus(PCF85063A_ADDRESS)
    const clock = sim ? new SimulatedRtcClock(new ds.RealTimeClock()) : new Pcf85063aClock(bus)

    async function powerDownAfterDraw(text: string) {
        if (text.indexOf("Press button") === 0) {
            // a person is about to press the button: stay on
            if (sim) console.log("power: held (confirmation pending)")
            return
        }
        const lines = text.split("\n")
        let wake = -1
        if (lines.length > 1 && isCodeLine(lines[1])) {
            const now = await clock.read()
            if (now)
                wake = nextRedrawTime(now.unixSeconds, PROFILE_PERIOD, PROFILE_T0, EINK_INDICATOR.cells)
        }
        if (sim) {
            console.log(`power: ${wake >= 0 ? "wake at " + wake : "no wake-up"}, latch released`)
            return
        }
        if (wake >= 0) await armPcf85063aAlarm(bus, wake)
        // on battery the board switches off here; on USB it simply keeps running
        pins.GP10.setMode(ds.GPIOMode.OutputLow)
    }

    return {
        clock: clock,
        button: sim ? new ds.Button() : startButton({ pin: pins.GP12, activeHigh: true }),
        display: eink,
        indicator: EINK_INDICATOR,
        afterShow: powerDownAfterDraw,
    }
}
