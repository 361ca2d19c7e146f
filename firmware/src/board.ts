// Everything board-specific: which clock, button and display the token uses. The rest of the
// firmware is identical on the Badger 2040 W, the XIAO ESP32-C3 + Expansion Board and the VM.
// Pin maps and wiring: hardware/boards/*.md.
import * as ds from "@devicescript/core"
import { SSD1306Driver, startCharacterScreenDisplay, UC8151Driver } from "@devicescript/drivers"
import { Image } from "@devicescript/graphics"
import { configureHardware, startButton } from "@devicescript/servers"
import { spi } from "@devicescript/spi"
import { pins as picoPins } from "@dsboard/pico_w"
import { pins as xiaoPins } from "@dsboard/seeed_xiao_esp32c3"
import { Clock } from "./clock"
import { Pcf85063aClock, PCF85063A_ADDRESS } from "./pcf85063a"
import { Pcf8563Clock, PCF8563_ADDRESS } from "./pcf8563"
import { BOARD } from "./profile.g"
import { I2cRegisterBus } from "./register-bus"
import { IndicatorStyle } from "./screens"
import { SimulatedRtcClock } from "./simulated-rtc-clock"

export interface Board {
    clock: Clock
    button: ds.Button
    screen: ds.CharacterScreen
    indicator: IndicatorStyle
}

export const BADGER_2040W = "pimoroni-badger2040w"
export const XIAO_EXPANSION = "seeed-xiao-esp32c3-expansion"

/** E-ink: a 4-cell bar redraws 4 times a period; OLED: redraw every second is free. */
const EINK_INDICATOR: IndicatorStyle = { cells: 4, showSeconds: false }
const OLED_INDICATOR: IndicatorStyle = { cells: 10, showSeconds: true }

async function startBadger(): Promise<Board> {
    const sim = ds.isSimulator()
    if (!sim)
        configureHardware({
            i2c: { pinSDA: picoPins.GP4, pinSCL: picoPins.GP5 },
            log: { pinTX: picoPins.GP0 },
        })
    // UC8151 e-ink, 296x128, on SPI0 (the display drivers skip the bus in the simulator)
    if (!sim) spi.configure({ miso: picoPins.GP16, mosi: picoPins.GP19, sck: picoPins.GP18, hz: 8000000 })
    const eink = new UC8151Driver(Image.alloc(296, 128, 1), {
        cs: picoPins.GP17,
        dc: picoPins.GP20,
        reset: picoPins.GP21,
        busy: picoPins.GP26,
        flip: false,
        spi: spi,
    })
    const screen = await startCharacterScreenDisplay(eink, { rows: 4, columns: 24 })
    return {
        clock: sim
            ? new SimulatedRtcClock(new ds.RealTimeClock())
            : new Pcf85063aClock(new I2cRegisterBus(PCF85063A_ADDRESS)),
        // button A (GP12, active high on the Badger)
        button: sim ? new ds.Button() : startButton({ pin: picoPins.GP12, activeHigh: true }),
        screen: screen,
        indicator: EINK_INDICATOR,
    }
}

async function startXiaoExpansion(): Promise<Board> {
    const sim = ds.isSimulator()
    if (!sim) configureHardware({ i2c: { pinSCL: xiaoPins.SCL_D5, pinSDA: xiaoPins.SDA_D4, kHz: 400 } })
    const oled = new SSD1306Driver({ devAddr: 0x3c, width: 128, height: 64 })
    const screen = await startCharacterScreenDisplay(oled, { rows: 4, columns: 21 })
    return {
        clock: sim
            ? new SimulatedRtcClock(new ds.RealTimeClock())
            : new Pcf8563Clock(new I2cRegisterBus(PCF8563_ADDRESS)),
        button: sim ? new ds.Button() : startButton({ pin: xiaoPins.A1_D1 }),
        screen: screen,
        indicator: OLED_INDICATOR,
    }
}

export async function startBoard(): Promise<Board> {
    if (BOARD === XIAO_EXPANSION) return await startXiaoExpansion()
    return await startBadger()
}
