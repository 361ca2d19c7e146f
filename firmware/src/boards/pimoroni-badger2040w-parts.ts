// What every Pimoroni Badger 2040 W build shares: UC8151 e-ink 296x128 on SPI0, PCF85063A RTC at
// I2C 0x51 (SDA GP4, SCL GP5), button A on GP12, the supply sense (VSYS / 3 on GP29, ADC3) and the
// power latch (ENABLE_3V3, GP10). The runtime is told not to start the CYW43 Wi-Fi chip
// (devNetwork): a token needs no radio, and starting it costs charge at every boot. In the VM the
// display driver skips the bus and clock, button and supply sense come from the test harness.
// See hardware/boards/pimoroni-badger2040w.md.
import * as ds from "@devicescript/core"
import { UC8151Driver } from "@devicescript/drivers"
import { Image } from "@devicescript/graphics"
import { configureHardware, startButton, startPotentiometer } from "@devicescript/servers"
import { spi } from "@devicescript/spi"
import { pins } from "@dsboard/pico_w"
import { Clock } from "../clock"
import { Pcf85063aClock, PCF85063A_ADDRESS } from "../pcf85063a"
import { I2cRegisterBus } from "../register-bus"
import { SimulatedRtcClock } from "../simulated-rtc-clock"

/**
 * Supply voltage under which the token shows its battery-low mark. The board runs down to 2.7 V;
 * 2 × AAA lithium cells hold 2.9 V or more until their last ~5 % of charge (weeks for the
 * press-to-show token, days always-visible, which therefore also dates its cells), alkaline cells
 * pass it at ~10 % (hardware/power-budget.ts computes the days left per mode and chemistry).
 */
export const BADGER_BATTERY_LOW_VOLTS = 2.9

/** The ADC reads VSYS through a 1/3 divider against a 3.3 V reference: reading 1.0 = 9.9 V. */
const SUPPLY_FULL_SCALE_VOLTS = 9.9

export interface BadgerParts {
    sim: boolean
    eink: UC8151Driver
    bus: I2cRegisterBus
    clock: Clock
    button: ds.Button
    supplyVolts: () => Promise<number>
}

/** `holdPower`: drive the power latch on (battery builds release it after drawing). */
export function startBadgerParts(holdPower: boolean): BadgerParts {
    const sim = ds.isSimulator()
    if (!sim) {
        // hold the power latch while working (the RTC alarm or a button only pulses it on)
        if (holdPower) pins.GP10.setMode(ds.GPIOMode.OutputHigh)
        configureHardware({ devNetwork: true, i2c: { pinSDA: pins.GP4, pinSCL: pins.GP5 }, log: { pinTX: pins.GP0 } })
        spi.configure({ miso: pins.GP16, mosi: pins.GP19, sck: pins.GP18, hz: 8000000 })
    }
    const bus = new I2cRegisterBus(PCF85063A_ADDRESS)
    // GP29 is not in DeviceScript's pico_w pin map (the Pico W shares it with the Wi-Fi chip's
    // clock, idle here): addressed by its hardware number. Untried on a board: if the runtime
    // refuses the pin, the token runs on without a battery mark rather than not at all.
    let supply: ds.Potentiometer = undefined
    try {
        supply = sim ? new ds.Potentiometer() : startPotentiometer({ pin: ds.gpio(29) })
    } catch (e) {
        console.log("supply sense unavailable")
    }
    return {
        sim: sim,
        eink: new UC8151Driver(Image.alloc(296, 128, 1), {
            cs: pins.GP17,
            dc: pins.GP20,
            reset: pins.GP21,
            busy: pins.GP26,
            flip: false,
            spi: spi,
        }),
        bus: bus,
        clock: sim ? new SimulatedRtcClock(new ds.RealTimeClock(), true) : new Pcf85063aClock(bus),
        // button A, active high on the Badger
        button: sim ? new ds.Button() : startButton({ pin: pins.GP12, activeHigh: true }),
        supplyVolts: async () => {
            // no sense (a harness without it): unknown, never "low"
            if (!supply || !supply.isBound) return undefined
            return (await supply.reading.read()) * SUPPLY_FULL_SCALE_VOLTS
        },
    }
}
