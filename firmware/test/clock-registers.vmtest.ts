// On-VM unit tests of the RTC register encoding against an in-memory chip (the VM has no I2C):
// BCD, century, the OS / VL integrity flags, the PCF85063A offset register, and civil time.
import { describe, expect, test } from "@devicescript/test"
import { fromBcd, toBcd } from "../src/bcd"
import { civilFromUnix, unixFromCivil, weekdayFromUnix } from "../src/civil-time"
import {
    decodePcf85063aOffset,
    decodePcf85063aTime,
    encodePcf85063aOffset,
    encodePcf85063aTime,
    armPcf85063aAlarm,
    encodePcf85063aAlarm,
    Pcf85063aClock,
    pcf85063aAlarmFired,
    trimPcf85063a,
} from "../src/pcf85063a"
import { decodePcf8563Time, encodePcf8563Time, Pcf8563Clock } from "../src/pcf8563"
import { RegisterBus } from "../src/register-bus"

/** A register file standing in for the chip; records every write. */
class FakeChip implements RegisterBus {
    regs = Buffer.alloc(32)
    writes: string[] = []
    async readRegisters(register: number, count: number): Promise<Buffer> {
        return this.regs.slice(register, register + count)
    }
    async writeRegisters(register: number, data: Buffer): Promise<void> {
        this.writes.push(register + ":" + data.toString("hex"))
        this.regs.blitAt(register, data, 0, data.length)
    }
}

// 2026-11-26T17:05:09Z, a Thursday
const T = 1795712709

describe("bcd", () => {
    test("encodes 0..99", () => {
        expect(toBcd(0)).toBe(0x00)
        expect(toBcd(9)).toBe(0x09)
        expect(toBcd(59)).toBe(0x59)
        expect(toBcd(99)).toBe(0x99)
    })
    test("decodes with flag bits masked", () => {
        expect(fromBcd(0x80 | 0x45, 0x7f)).toBe(45)
        expect(fromBcd(0x12, 0x1f)).toBe(12)
    })
})

describe("civil time", () => {
    test("epoch and a known date", () => {
        expect(unixFromCivil({ year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0 })).toBe(0)
        expect(unixFromCivil({ year: 2026, month: 11, day: 26, hour: 17, minute: 5, second: 9 })).toBe(T)
    })
    test("leap day 2024 and 2100 is not a leap year", () => {
        expect(civilFromUnix(1709164800).day).toBe(29) // 2024-02-29
        const march1 = civilFromUnix(4107542400) // 2100-03-01
        expect(march1.month).toBe(3)
        expect(march1.day).toBe(1)
    })
    test("beyond 2038 round-trips", () => {
        const t = 2208988800 + 12345 // 2040-01-01 + 3:25:45
        const c = civilFromUnix(t)
        expect(c.year).toBe(2040)
        expect(unixFromCivil(c)).toBe(t)
    })
    test("weekday", () => {
        expect(weekdayFromUnix(0)).toBe(4) // Thursday
        expect(weekdayFromUnix(T)).toBe(4)
    })
})

describe("pcf85063a", () => {
    test("time registers are BCD seconds..years with weekday", () => {
        expect(encodePcf85063aTime(T).toString("hex")).toBe("09051726041126")
    })
    test("decode round-trips and reports a clear OS flag", () => {
        const r = decodePcf85063aTime(encodePcf85063aTime(T))
        expect(r.unixSeconds).toBe(T)
        expect(r.integrityLost).toBe(false)
    })
    test("OS flag (seconds bit 7) means integrity lost", () => {
        const regs = encodePcf85063aTime(T)
        regs[0] |= 0x80
        const r = decodePcf85063aTime(regs)
        expect(r.integrityLost).toBe(true)
        expect(r.unixSeconds).toBe(T)
    })
    test("no century bit: 2100 is refused", () => {
        expect(() => encodePcf85063aTime(4102444800)).toThrow()
    })
    // NXP datasheet rule: a POSITIVE Offset value subtracts correction pulses, so the clock runs
    // SLOWER; a crystal measured fast (above 32768 Hz) gets offset = +Eppm / 4.34 (mode 0).
    test("offset register: fast crystal gets a positive value (slows the clock), mode bit 7", () => {
        expect(encodePcf85063aOffset(0, false)).toBe(0)
        expect(encodePcf85063aOffset(8.68, false)).toBe(0x02) // fast by 2 steps: +2, slower
        expect(encodePcf85063aOffset(20, false)).toBe(0x05) // 20 / 4.34 = 4.6 -> +5
        expect(encodePcf85063aOffset(-13.02, false)).toBe(0x7d) // slow by 3 steps: -3, faster
        expect(encodePcf85063aOffset(4.069, true)).toBe(0x80 | 0x01) // fast mode, +1
        expect(encodePcf85063aOffset(1000, false)).toBe(63) // clamped at +63 (slowest)
        expect(encodePcf85063aOffset(-1000, false)).toBe(0x40) // -64 (fastest)
    })
    test("offset decode inverts encode: the ppm the register slows the clock by", () => {
        expect(Math.round(decodePcf85063aOffset(encodePcf85063aOffset(-13.02, false)) * 100)).toBe(-1302)
        expect(Math.round(decodePcf85063aOffset(0x05) * 100)).toBe(2170)
        expect(Math.round(decodePcf85063aOffset(0x7f) * 100)).toBe(-434)
    })
    test("driver stops the clock, writes time, restarts", async () => {
        const chip = new FakeChip()
        const clock = new Pcf85063aClock(chip)
        await clock.set(T)
        expect(chip.writes.join(" ")).toBe("0:20 4:09051726041126 0:00")
        const r = await clock.read()
        expect(r.unixSeconds).toBe(T)
        expect(await trimPcf85063a(chip, 8680)).toBe(0) // a crystal 8.68 ppm fast: +2 steps exactly
        expect(chip.regs[2]).toBe(0x02)
        // 20 ppm fast: +5 steps slow the clock by 21.7 ppm; -1.7 ppm is left for the software trim
        expect(await trimPcf85063a(chip, 20000)).toBe(-1700)
        expect(chip.regs[2]).toBe(0x05)
    })
})

describe("pcf85063a alarm (Badger power latch wake-up)", () => {
    test("second, minute, hour match; day and weekday disabled", () => {
        expect(encodePcf85063aAlarm(T + 51).toString("hex")).toBe("0006178080") // 17:06:00
    })
    test("arming writes the alarm, then AIE with CLKOUT off and AF cleared", async () => {
        const chip = new FakeChip()
        chip.regs[1] = 0x40 // an old alarm flag
        await armPcf85063aAlarm(chip, T + 51)
        expect(chip.writes.join(" ")).toBe("11:0006178080 1:87")
        expect(pcf85063aAlarmFired(chip.regs[1])).toBe(false)
        expect(pcf85063aAlarmFired(0x40 | 0x80)).toBe(true)
    })
})

describe("pcf8563", () => {
    test("time registers with century bit clear in 20xx", () => {
        expect(encodePcf8563Time(T).toString("hex")).toBe("09051726041126")
    })
    test("century bit set in 21xx", () => {
        const regs = encodePcf8563Time(4107542400) // 2100-03-01
        expect(regs[5]).toBe(0x80 | 0x03)
        expect(regs[6]).toBe(0x00)
        expect(decodePcf8563Time(regs).unixSeconds).toBe(4107542400)
    })
    test("VL flag (seconds bit 7) means integrity lost", () => {
        const regs = encodePcf8563Time(T)
        regs[0] |= 0x80
        expect(decodePcf8563Time(regs).integrityLost).toBe(true)
    })
    test("unused register bits are ignored", () => {
        const regs = encodePcf8563Time(T)
        regs[1] |= 0x80 // minutes bit 7 unused
        regs[4] |= 0xf8 // weekday upper bits unused
        expect(decodePcf8563Time(regs).unixSeconds).toBe(T)
    })
    test("driver writes from register 2 between STOP and restart", async () => {
        const chip = new FakeChip()
        const clock = new Pcf8563Clock(chip)
        await clock.set(T)
        expect(chip.writes.join(" ")).toBe("0:20 2:09051726041126 0:00")
        expect((await clock.read()).unixSeconds).toBe(T)
    })
})
