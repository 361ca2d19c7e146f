// Clock driver for the VM: a Jacdac RealTimeClock service hosted by the test harness
// (hardware/sim/simulated-rtc.ts), which reports UTC and lets tests set, speed up, slow down and
// jump time. A reset RTC (the harness's power-loss) reports year 2000, like the real chips.
import * as ds from "@devicescript/core"
import { civilFromUnix, unixFromCivil, weekdayFromUnix } from "./civil-time"
import { Clock, ClockReading } from "./clock"

export class SimulatedRtcClock implements Clock {
    constructor(readonly rtc: ds.RealTimeClock) {}

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
}
