// Clock driver for the VM: a Jacdac RealTimeClock service hosted by the test harness
// (hardware/sim/simulated-rtc.ts), which reports UTC and lets tests set, speed up, slow down and
// jump time. A reset RTC (the harness's power-loss) reports year 2000, like the real chips. On the
// Badger it stands for a PCF85063A: the harness models its Offset register, written through a
// simulator-only command.
import * as ds from "@devicescript/core"
import { civilFromUnix, unixFromCivil, weekdayFromUnix } from "./civil-time"
import { Clock, ClockReading } from "./clock"
import { trimPcf85063a } from "./pcf85063a"

/** Simulator-only RealTimeClock command: a PCF85063A register write (register u8, data bytes). */
export const SIMULATED_REGISTER_WRITE = 0x8f

export class SimulatedRtcClock implements Clock {
    /** `pcf85063a`: the simulated chip has the PCF85063A Offset register (else: a PCF8563, none) */
    constructor(
        readonly rtc: ds.RealTimeClock,
        readonly pcf85063a: boolean
    ) {}

    async read(): Promise<ClockReading | undefined> {
        if (!this.rtc.isBound) return undefined
        // a fresh reading, not the cached one: the harness may have just jumped the clock
        const v = await this.rtc.reading.read()
        if (!v || v.length < 7) return undefined
        return {
            unixSeconds: unixFromCivil({
                year: v[0],
                month: v[1],
                day: v[2],
                hour: v[4],
                minute: v[5],
                second: v[6],
            }),
            integrityLost: false,
        }
    }

    async set(unixSeconds: number): Promise<void> {
        const t = civilFromUnix(unixSeconds)
        await this.rtc.setTime(
            t.year,
            t.month,
            t.day,
            weekdayFromUnix(unixSeconds),
            t.hour,
            t.minute,
            t.second
        )
    }

    async trim(ppb: number): Promise<number> {
        return this.pcf85063a ? await trimPcf85063a(this, ppb) : ppb
    }

    /** The harness's simulated PCF85063A takes register writes through a simulator-only command. */
    async writeRegisters(register: number, data: Buffer): Promise<void> {
        const payload = Buffer.alloc(data.length + 1)
        payload[0] = register
        payload.blitAt(1, data, 0, data.length)
        await this.rtc.sendCommand(SIMULATED_REGISTER_WRITE, payload)
    }
}
