// NXP PCF85063A real-time clock (Pimoroni Badger 2040 W, I2C address 0x51).
// Register map from the NXP datasheet (Rev. 7): 0x00 Control_1, 0x01 Control_2, 0x02 Offset,
// 0x03 RAM, 0x04 Seconds (bit 7 = OS, oscillator stopped) .. 0x0A Years. There is no century bit:
// years are 2000..2099.
import { fromBcd, toBcd } from "./bcd"
import { civilFromUnix, unixFromCivil, weekdayFromUnix } from "./civil-time"
import { Clock, ClockReading } from "./clock"
import { RegisterBus } from "./register-bus"

export const PCF85063A_ADDRESS = 0x51
export const PCF85063A_REG_CONTROL_1 = 0x00
export const PCF85063A_REG_OFFSET = 0x02
export const PCF85063A_REG_SECONDS = 0x04
const OSCILLATOR_STOPPED = 0x80
/** Control_1 STOP bit: freezes the time counters while they are written. */
const CONTROL_1_STOP = 0x20

/** Offset register step size in ppm: mode 0 (correction every 2 h) and mode 1 (every 4 min). */
export const OFFSET_PPM_PER_STEP_NORMAL = 4.34
export const OFFSET_PPM_PER_STEP_FAST = 4.069

/** The 7 time registers (seconds..years) for a UTC time. */
export function encodePcf85063aTime(unixSeconds: number): Buffer {
    const t = civilFromUnix(unixSeconds)
    if (t.year < 2000 || t.year > 2099) throw new RangeError("PCF85063A holds years 2000..2099")
    const regs = Buffer.alloc(7)
    regs[0] = toBcd(t.second) // writing seconds clears OS
    regs[1] = toBcd(t.minute)
    regs[2] = toBcd(t.hour) // 24-hour mode (Control_1 12_24 = 0)
    regs[3] = toBcd(t.day)
    regs[4] = weekdayFromUnix(unixSeconds)
    regs[5] = toBcd(t.month)
    regs[6] = toBcd(t.year - 2000)
    return regs
}

export function decodePcf85063aTime(regs: Buffer): ClockReading {
    const unixSeconds = unixFromCivil({
        year: 2000 + fromBcd(regs[6], 0xff),
        month: fromBcd(regs[5], 0x1f),
        day: fromBcd(regs[3], 0x3f),
        hour: fromBcd(regs[2], 0x3f),
        minute: fromBcd(regs[1], 0x7f),
        second: fromBcd(regs[0], 0x7f),
    })
    return { unixSeconds: unixSeconds, integrityLost: (regs[0] & OSCILLATOR_STOPPED) !== 0 }
}

/**
 * Offset register value that cancels a measured drift (positive ppm = the crystal runs fast).
 * NXP's rule (PCF85063A datasheet, Offset register; AN11247 calibration): a positive value
 * subtracts correction pulses, so the clock runs SLOWER; a crystal measured above 32768 Hz needs
 * offset = +Eppm / 4.34 (mode 0). Linux rtc-pcf85063 maps its positive `offset` ("a day passes
 * more slowly") to a positive value the same way. The 7-bit two's complement value is clamped
 * to -64..63; bit 7 selects mode 1 (correction every 4 min instead of every 2 h).
 */
export function encodePcf85063aOffset(driftPpm: number, fastMode: boolean): number {
    const step = fastMode ? OFFSET_PPM_PER_STEP_FAST : OFFSET_PPM_PER_STEP_NORMAL
    let steps = Math.round(driftPpm / step)
    if (steps > 63) steps = 63
    if (steps < -64) steps = -64
    return (fastMode ? 0x80 : 0) | (steps & 0x7f)
}

/**
 * Drift in ppm that an Offset register value cancels (inverse of the encoder): the clock runs
 * slower by this much (negative: faster).
 */
export function decodePcf85063aOffset(value: number): number {
    const fastMode = (value & 0x80) !== 0
    let steps = value & 0x7f
    if (steps >= 64) steps -= 128
    return steps * (fastMode ? OFFSET_PPM_PER_STEP_FAST : OFFSET_PPM_PER_STEP_NORMAL)
}

export class Pcf85063aClock implements Clock {
    constructor(readonly bus: RegisterBus) {}

    async read(): Promise<ClockReading | undefined> {
        try {
            return decodePcf85063aTime(await this.bus.readRegisters(PCF85063A_REG_SECONDS, 7))
        } catch (e) {
            return undefined
        }
    }

    async set(unixSeconds: number): Promise<void> {
        const regs = encodePcf85063aTime(unixSeconds)
        // stop the divider chain so no carry happens half-way through the write
        await this.bus.writeRegisters(PCF85063A_REG_CONTROL_1, Buffer.from([CONTROL_1_STOP]))
        await this.bus.writeRegisters(PCF85063A_REG_SECONDS, regs)
        await this.bus.writeRegisters(PCF85063A_REG_CONTROL_1, Buffer.from([0]))
    }

    async trim(ppb: number): Promise<number> {
        return await trimPcf85063a(this.bus, ppb)
    }
}

/**
 * Trims a crystal `ppb` parts per billion fast with the Offset register (mode 0, 4.34 ppm steps);
 * returns the ppb the steps leave over (at most 2.17 ppm), for the software trim.
 */
export async function trimPcf85063a(bus: Pick<RegisterBus, "writeRegisters">, ppb: number): Promise<number> {
    await bus.writeRegisters(PCF85063A_REG_OFFSET, Buffer.from([encodePcf85063aOffset(ppb / 1000, false)]))
    // |ppb| <= 200 ppm stays within the register's ±63 steps: no clamping to undo
    return ppb - Math.round(Math.round(ppb / 1000 / OFFSET_PPM_PER_STEP_NORMAL) * OFFSET_PPM_PER_STEP_NORMAL * 1000)
}

/** Control_2: AIE (alarm interrupt enable) and COF = 111 (CLKOUT off, saves current). */
export const PCF85063A_REG_CONTROL_2 = 0x01
export const PCF85063A_REG_SECOND_ALARM = 0x0b
const CONTROL_2_AIE = 0x80
const CONTROL_2_AF = 0x40
const CONTROL_2_CLKOUT_OFF = 0x07
/** AEN_x = 1 disables matching on that field */
const ALARM_FIELD_DISABLED = 0x80

/**
 * Alarm registers 0x0B..0x0F for a wake-up at `unixSeconds`: second, minute and hour must match
 * (AEN = 0); day and weekday are ignored (AEN = 1), so the alarm is at most 24 h ahead.
 */
export function encodePcf85063aAlarm(unixSeconds: number): Buffer {
    const t = civilFromUnix(unixSeconds)
    return Buffer.from([
        toBcd(t.second),
        toBcd(t.minute),
        toBcd(t.hour),
        ALARM_FIELD_DISABLED,
        ALARM_FIELD_DISABLED,
    ])
}

/** Arms the alarm (INT pin → Badger power latch) and clears a previous alarm flag. */
export async function armPcf85063aAlarm(bus: RegisterBus, unixSeconds: number): Promise<void> {
    await bus.writeRegisters(PCF85063A_REG_SECOND_ALARM, encodePcf85063aAlarm(unixSeconds))
    await bus.writeRegisters(
        PCF85063A_REG_CONTROL_2,
        Buffer.from([CONTROL_2_AIE | CONTROL_2_CLKOUT_OFF])
    )
}

/** True if Control_2 says the alarm fired (the board was woken by the RTC). */
export function pcf85063aAlarmFired(control2: number): boolean {
    return (control2 & CONTROL_2_AF) !== 0
}
