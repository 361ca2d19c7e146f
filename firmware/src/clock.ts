// The one clock interface the token uses, whatever keeps time: a PCF85063A or PCF8563 on a board,
// or the simulated real-time-clock service the test harness hosts next to the VM.

export interface ClockReading {
    /** UTC Unix seconds. */
    unixSeconds: number
    /**
     * True when the chip itself says its time cannot be trusted (oscillator stopped, supply
     * voltage dropped too low). Only cleared by setting the time.
     */
    integrityLost: boolean
}

export interface Clock {
    /** Current time, or undefined when the clock cannot be reached. */
    read(): Promise<ClockReading | undefined>
    /** Sets the time (UTC Unix seconds) and clears the chip's integrity flags. */
    set(unixSeconds: number): Promise<void>
    /**
     * Trims a crystal `ppb` parts per billion fast (negative: slow) as far as the chip can;
     * returns the ppb left for the firmware to correct when reading (see software-trim.ts).
     */
    trim(ppb: number): Promise<number>
}

/** Earliest time a token accepts as "set" (2024-01-01T00:00:00Z); RTC chips reset to 2000. */
export const EARLIEST_VALID_TIME = 1704067200
/** Latest time both RTC chips can hold (PCF85063A has no century bit: 2099-12-31T23:59:59Z). */
export const LATEST_VALID_TIME = 4102444799
