// A simulated real-time-clock chip: a Jacdac RealTimeClock server (hosted by the harness next to
// the VM) whose time tests control. It reports UTC (never the host's time zone), runs at a chosen
// rate (drift in ppm, or fast/slow for tests), jumps on demand, and loses power like a real chip
// (back to 2000-01-01). The firmware's set_time command writes it. It also models the PCF85063A
// Offset register (the Badger's trim), written by the firmware through a simulator-only command,
// and lets a test let months pass for the chip while the token is off (`elapse`).
import { jacdac } from "../../common/token-service/jacdac.js";

type RtcReading = [number, number, number, number, number, number, number];

/** What a real RTC chip shows after losing power: 2000-01-01T00:00:00Z. */
export const RTC_RESET_TIME = 946684800;

/** Jacdac RealTimeClock command: set_time(year u16, month, day, day_of_week, hour, min, sec). */
const CMD_SET_TIME = 0x80;
const REG_DRIFT = 0x180;
const REG_PRECISION = 0x181;
/** Simulator-only command (firmware/src/simulated-rtc-clock.ts): PCF85063A register write. */
const CMD_SIMULATED_REGISTER_WRITE = 0x8f;
const PCF85063A_REG_OFFSET = 0x02;

/**
 * How much slower (ppm; negative = faster) a PCF85063A Offset register value makes the clock, from
 * the datasheet: 7-bit two's complement steps, bit 7 = mode (0: 4.34 ppm, 1: 4.069 ppm per step);
 * a positive value subtracts correction pulses, so the clock runs slower.
 */
export function pcf85063aOffsetSlowdownPpm(value: number): number {
  let steps = value & 0x7f;
  if (steps >= 64) steps -= 128;
  return steps * (value & 0x80 ? 4.069 : 4.34);
}

export function rtcReading(unixSeconds: number): RtcReading {
  const d = new Date(Math.floor(unixSeconds) * 1000);
  return [
    d.getUTCFullYear(),
    d.getUTCMonth() + 1,
    d.getUTCDate(),
    d.getUTCDay(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
  ];
}

export interface RtcSetEvent {
  unixSeconds: number;
  atHostMillis: number;
}

export class SimulatedRtc extends jacdac.SensorServer<RtcReading> {
  private baseSeconds: number;
  private baseHostMillis: number;
  /** crystal rate (1 + drift) */
  private rate = 1;
  /** PCF85063A Offset register, as last written by the firmware */
  offsetRegister = 0;
  /** every time the firmware wrote the clock, oldest first */
  readonly writes: RtcSetEvent[] = [];
  /** set_time broadcasts from hosts, dropped before they reach this server (see harness-bus.ts) */
  ignoredBroadcasts = 0;

  constructor(startUnixSeconds: number = Date.now() / 1000) {
    super(jacdac.SRV_REAL_TIME_CLOCK, {
      readingValues: rtcReading(startUnixSeconds),
      variant: 2, // Crystal
      streamingInterval: 1000,
    });
    this.baseSeconds = startUnixSeconds;
    this.baseHostMillis = Date.now();
    this.addRegister(REG_DRIFT, [0]);
    this.addRegister(REG_PRECISION, [0]);
    this.addCommand(CMD_SET_TIME, (pkt) => {
      const [year, month, day, , hour, minute, second] = pkt.jdunpack<RtcReading>("u16 u8 u8 u8 u8 u8 u8");
      const t = Date.UTC(year, month - 1, day, hour, minute, second) / 1000;
      this.set(t);
      this.writes.push({ unixSeconds: t, atHostMillis: Date.now() });
    });
    this.addCommand(CMD_SIMULATED_REGISTER_WRITE, (pkt) => {
      if (pkt.data[0] === PCF85063A_REG_OFFSET && pkt.data.length > 1) {
        this.set(this.now());
        this.offsetRegister = pkt.data[1]!;
      }
    });
    // always answer a register read with the time at that instant, not the last streamed value
    this.reading.on(jacdac.REGISTER_PRE_GET, () => this.refreshReading());
    this.on(jacdac.REFRESH, () => this.refreshReading());
  }

  private refreshReading() {
    this.reading.setValues(rtcReading(this.now()));
  }

  /** The chip's current time in (fractional) UTC Unix seconds. */
  now(): number {
    return this.baseSeconds + ((Date.now() - this.baseHostMillis) / 1000) * this.effectiveRate();
  }

  /** The rate the chip counts at: the crystal's, slowed or sped up by the Offset register. */
  effectiveRate(): number {
    return this.rate * (1 - pcf85063aOffsetSlowdownPpm(this.offsetRegister) / 1e6);
  }

  /** Lets `seconds` of real time pass for the chip at once (the test's own clock moves with it). */
  elapse(seconds: number) {
    this.set(this.now() + seconds * this.effectiveRate());
  }

  set(unixSeconds: number) {
    this.baseSeconds = unixSeconds;
    this.baseHostMillis = Date.now();
    this.refreshReading();
  }

  /** Moves the clock by `seconds` at once (positive = forward). */
  jump(seconds: number) {
    this.set(this.now() + seconds);
  }

  /** Crystal error in parts per million (positive = runs fast). */
  setDriftPpm(ppm: number) {
    this.setRate(1 + ppm / 1e6);
  }

  /** Runs the clock `factor` times real time (2 = twice as fast, 0.5 = half speed, 0 = stopped). */
  setRate(factor: number) {
    this.set(this.now());
    this.rate = factor;
  }

  /** Power loss: the chip restarts from its reset value, as after a flat backup cell. */
  powerLoss() {
    this.set(RTC_RESET_TIME);
    this.offsetRegister = 0;
  }
}
