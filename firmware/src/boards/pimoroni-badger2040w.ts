// Pimoroni Badger 2040 W (RP2040 + CYW43): UC8151 e-ink 296x128 on SPI0, PCF85063A RTC at I2C
// 0x51 (SDA GP4, SCL GP5), button A on GP12. In the VM the display driver skips the bus and the
// clock and button come from the test harness. See hardware/boards/pimoroni-badger2040w.md.
import * as ds from "@devicescript/core"
import { UC8151Driver } from "@devicescript/drivers"
import { Image } from "@devicescript/graphics"
import { configureHardware, startButton } from "@devicescript/servers"
import { spi } from "@devicescript/spi"
import { pins } from "@dsboard/pico_w"
import { Board, EINK_INDICATOR } from "../board"
import { Pcf85063aClock, PCF85063A_ADDRESS } from "../pcf85063a"
import { I2cRegisterBus } from "../register-bus"
import { SimulatedRtcClock } from "../simulated-rtc-clock"

export async function startBoard(): Promise<Board> {
    const sim = ds.isSimulator()
    if (!sim) {
        configureHardware({ i2c: { pinSDA: pins.GP4, pinSCL: pins.GP5 }, log: { pinTX: pins.GP0 } })
        spi.configure({ miso: pins.GP16, mosi: pins.GP19, sck: pins.GP18, hz: 8000000 })
    }
    const eink = new UC8151Driver(Image.alloc(296, 128, 1), {
        cs: pins.GP17,
        dc: pins.GP20,
        reset: pins.GP21,
        busy: pins.GP26,
        flip: false,
        spi: spi,
    })
    return {
        clock: sim
            ? new SimulatedRtcClock(new ds.RealTimeClock())
            : new Pcf85063aClock(new I2cRegisterBus(PCF85063A_ADDRESS)),
        // button A, active high on the Badger
        button: sim ? new ds.Button() : startButton({ pin: pins.GP12, activeHigh: true }),
        display: eink,
        indicator: EINK_INDICATOR,
    }
}
