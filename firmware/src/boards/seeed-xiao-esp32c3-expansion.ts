// Seeed XIAO ESP32-C3 on the XIAO Expansion Board: SSD1306 OLED 128x64 at I2C 0x3C and PCF8563
// RTC at 0x51 (SDA D4, SCL D5), user button on D1. In the VM the display driver skips the bus and
// the clock and button come from the test harness. See hardware/boards/seeed-xiao-esp32c3-expansion.md.
import * as ds from "@devicescript/core"
import { SSD1306Driver } from "@devicescript/drivers"
import { configureHardware, startButton } from "@devicescript/servers"
import { pins } from "@dsboard/seeed_xiao_esp32c3"
import { Board, OLED_INDICATOR } from "../board"
import { Pcf8563Clock, PCF8563_ADDRESS } from "../pcf8563"
import { I2cRegisterBus } from "../register-bus"
import { SimulatedRtcClock } from "../simulated-rtc-clock"

export async function startBoard(): Promise<Board> {
    const sim = ds.isSimulator()
    if (!sim) configureHardware({ i2c: { pinSCL: pins.SCL_D5, pinSDA: pins.SDA_D4, kHz: 400 } })
    const oled = new SSD1306Driver({ devAddr: 0x3c, width: 128, height: 64 })
    return {
        clock: sim
            ? new SimulatedRtcClock(new ds.RealTimeClock(), false)
            : new Pcf8563Clock(new I2cRegisterBus(PCF8563_ADDRESS)),
        button: sim ? new ds.Button() : startButton({ pin: pins.A1_D1 }),
        display: oled,
        indicator: OLED_INDICATOR,
    }
}
