// NXP PCF8563 real-time clock (Seeed XIAO Expansion Board, I2C address 0x51).
// Registers: 0x00 Control_status_1 (bit 5 STOP), 0x01 Control_status_2, 0x02 VL_seconds
// (bit 7 = VL, voltage low: integrity not guaranteed) .. 0x08 Years; 0x07 Century_months bit 7 = C.
// The chip toggles C when the years register wraps 99 -> 00, so C = 0 means 20xx and C = 1 means
// 21xx here. There is no offset (trim) register on this chip.
import { fromBcd, toBcd } from "./bcd"
import { civilFromUnix, unixFromCivil, weekdayFromUnix } from "./civil-time"
import { Clock, ClockReading } from "./clock"
import { RegisterBus } from "./register-bus"

export const PCF8563_ADDRESS = 0x51
export const PCF8563_REG_CONTROL_1 = 0x00
export const PCF8563_REG_SECONDS = 0x02
const VOLTAGE_LOW = 0x80
const CENTURY = 0x80
const CONTROL_1_STOP = 0x20

export function encodePcf8563Time(unixSeconds: number): Buffer {
    const t = civilFromUnix(unixSeconds)
    if (t.year < 2000 || t.year > 2199) throw new RangeError("PCF8563 holds years 2000..2199")
    const regs = Buffer.alloc(7)
    regs[0] = toBcd(t.second) // writing seconds clears VL
    regs[1] = toBcd(t.minute)
    regs[2] = toBcd(t.hour)
    regs[3] = toBcd(t.day)
    regs[4] = weekdayFromUnix(unixSeconds)
    regs[5] = toBcd(t.month) | (t.year >= 2100 ? CENTURY : 0)
    regs[6] = toBcd(t.year % 100)
    return regs
}

export function decodePcf8563Time(regs: Buffer): ClockReading {
    const century = (regs[5] & CENTURY) !== 0 ? 2100 : 2000
    const unixSeconds = unixFromCivil({
        year: century + fromBcd(regs[6], 0xff),
        month: fromBcd(regs[5], 0x1f),
        day: fromBcd(regs[3], 0x3f),
        hour: fromBcd(regs[2], 0x3f),
        minute: fromBcd(regs[1], 0x7f),
        second: fromBcd(regs[0], 0x7f),
    })
    return { unixSeconds: unixSeconds, integrityLost: (regs[0] & VOLTAGE_LOW) !== 0 }
}

export class Pcf8563Clock implements Clock {
    constructor(readonly bus: RegisterBus) {}

    async read(): Promise<ClockReading | undefined> {
        try {
            return decodePcf8563Time(await this.bus.readRegisters(PCF8563_REG_SECONDS, 7))
        } catch (e) {
            return undefined
        }
    }

    async set(unixSeconds: number): Promise<void> {
        const regs = encodePcf8563Time(unixSeconds)
        await this.bus.writeRegisters(PCF8563_REG_CONTROL_1, Buffer.from([CONTROL_1_STOP]))
        await this.bus.writeRegisters(PCF8563_REG_SECONDS, regs)
        await this.bus.writeRegisters(PCF8563_REG_CONTROL_1, Buffer.from([0]))
    }

    /** No Offset register: the whole trim is applied in software. */
    async trim(ppb: number): Promise<number> {
        return ppb
    }
}
