// On-VM unit tests of the token's decision logic: serial format (compiled from the profile),
// set-time policy, the seed-keyed constructions the host must reproduce, screens, and the
// change-only display.
import * as ds from "@devicescript/core"
import { describe, expect, test } from "@devicescript/test"
import { ALGORITHM_SHA1, ALGORITHM_SHA256, seedLengthFor } from "../src/algorithm"
import { TokenDisplay } from "../src/display"
import { MAX_FORWARD_CORRECTION_SECONDS, SERIAL_PATTERN } from "../src/profile.g"
import { nextRedrawTime } from "../src/power-schedule"
import { BatteryMonitor } from "../src/battery-monitor"
import { CellAge, CellRecord, nextCellRecord } from "../src/cell-age"
import { codeScreen, groupCode, isCodeScreen, isConfirmScreen, validityBar, withBatteryLow } from "../src/screens"
import { isValidSerial } from "../src/serial-format"
import { checkSetTime } from "../src/set-time-policy"
import { trimmedTime } from "../src/software-trim"
import { constantTimeEqual, secretFingerprint, setTimeMac, uintLE } from "../src/token-auth"

const SEED = Buffer.alloc(32)
SEED.fillAt(0, 32, 7)
const T = 1795712709

describe("serial format from the profile", () => {
    test("profile pattern is the one compiled", () => {
        expect(SERIAL_PATTERN).toBe("^JT[0-9]{8}$")
    })
    test("accepts JT + 8 digits", () => {
        expect(isValidSerial("JT00000042")).toBe(true)
    })
    test("refuses wrong prefix, length, characters", () => {
        expect(isValidSerial("JX00000042")).toBe(false)
        expect(isValidSerial("JT0000042")).toBe(false)
        expect(isValidSerial("JT000000420")).toBe(false)
        expect(isValidSerial("JT0000004A")).toBe(false)
        expect(isValidSerial("")).toBe(false)
    })
})

describe("algorithms", () => {
    test("seed lengths come from the profile", () => {
        expect(seedLengthFor(ALGORITHM_SHA1)).toBe(20)
        expect(seedLengthFor(ALGORITHM_SHA256)).toBe(32)
        expect(seedLengthFor(0)).toBe(0)
        expect(seedLengthFor(3)).toBe(0)
    })
})

describe("seed-keyed constructions (must match the host, see README)", () => {
    test("u64 little-endian beyond 2^32", () => {
        expect(uintLE(78187493530, 8).toString("hex")).toBe("9a78563412000000")
        expect(uintLE(4294967295, 4).toString("hex")).toBe("ffffffff")
    })
    test("set-time MAC vector", () => {
        expect(setTimeMac(SEED, T, 5).toString("hex")).toBe(
            "819f5698c7cf25461aef4c51ea33278609ffa4b8471cb19fde931f87c73c05c0"
        )
    })
    test("set-time-trim MAC vectors (trim i32 little-endian, two's complement)", () => {
        expect(setTimeMac(SEED, T, 5, 30000).toString("hex")).toBe(
            "273bc9af0375ea6b7da544e1a77310b18c485c6bbfa3d915bc4fc2874645b09f"
        )
        expect(setTimeMac(SEED, T, 5, -25000).toString("hex")).toBe(
            "76569534f8fabf2e9b0bbc75c20a24e3750879bbd006802889f7c2714682df03"
        )
    })
    test("fingerprint vector", () => {
        expect(secretFingerprint(SEED, "JT00000042").toString("hex")).toBe(
            "f9958679b9f3f3aa2d95d8ac46ca296529b6cc9eba9061dd60cd682bb2b47537"
        )
    })
    test("constant-time compare", () => {
        expect(constantTimeEqual(Buffer.from("abc"), Buffer.from("abc"))).toBe(true)
        expect(constantTimeEqual(Buffer.from("abc"), Buffer.from("abd"))).toBe(false)
        expect(constantTimeEqual(Buffer.from("abc"), Buffer.from("ab"))).toBe(false)
    })
})

describe("set-time policy", () => {
    const R = ds.JetonTokenResult
    const req = (time: number, counter: number) => ({
        time: time,
        counter: counter,
        mac: setTimeMac(SEED, time, counter),
    })
    const max = MAX_FORWARD_CORRECTION_SECONDS
    test("small forward correction with a newer counter is accepted", () => {
        expect(checkSetTime(req(T + 10, 1), SEED, 0, T, max)).toBe(R.Ok)
        expect(checkSetTime(req(T, 1), SEED, 0, T, max)).toBe(R.Ok)
        expect(checkSetTime(req(T + max, 1), SEED, 0, T, max)).toBe(R.Ok)
    })
    test("bad MAC, truncated MAC", () => {
        const r = req(T + 10, 1)
        r.mac[0] ^= 1
        expect(checkSetTime(r, SEED, 0, T, max)).toBe(R.BadMac)
        expect(checkSetTime({ time: T, counter: 1, mac: Buffer.alloc(16) }, SEED, 0, T, max)).toBe(R.BadMac)
    })
    test("MAC over another time does not authorize this time", () => {
        const r = req(T + 10, 1)
        expect(checkSetTime({ time: T + 20, counter: 1, mac: r.mac }, SEED, 0, T, max)).toBe(R.BadMac)
    })
    test("replayed or old counter", () => {
        expect(checkSetTime(req(T + 10, 3), SEED, 3, T, max)).toBe(R.ReplayedCounter)
        expect(checkSetTime(req(T + 10, 2), SEED, 3, T, max)).toBe(R.ReplayedCounter)
    })
    test("backward and too large corrections", () => {
        expect(checkSetTime(req(T - 1, 1), SEED, 0, T, max)).toBe(R.BackwardCorrection)
        expect(checkSetTime(req(T + max + 1, 1), SEED, 0, T, max)).toBe(R.CorrectionTooLarge)
    })
    test("untrusted clock", () => {
        expect(checkSetTime(req(T + 10, 1), SEED, 0, undefined, max)).toBe(R.ClockUntrusted)
    })
})

describe("set-time-trim policy", () => {
    const R = ds.JetonTokenResult
    const max = MAX_FORWARD_CORRECTION_SECONDS
    const req = (time: number, counter: number, trim: number) => ({
        time: time,
        counter: counter,
        trim: trim,
        mac: setTimeMac(SEED, time, counter, trim),
    })
    test("forward within the bound is accepted, backward within it needs the button", () => {
        expect(checkSetTime(req(T + max, 1, -25000), SEED, 0, T, max)).toBe(R.Ok)
        expect(checkSetTime(req(T - 1, 1, 30000), SEED, 0, T, max)).toBe(R.NotConfirmed)
        expect(checkSetTime(req(T - max, 1, 30000), SEED, 0, T, max)).toBe(R.NotConfirmed)
    })
    test("beyond the bounds: too large forward, backward, trim beyond 200 ppm", () => {
        expect(checkSetTime(req(T + max + 1, 1, 0), SEED, 0, T, max)).toBe(R.CorrectionTooLarge)
        expect(checkSetTime(req(T - max - 1, 1, 0), SEED, 0, T, max)).toBe(R.BackwardCorrection)
        expect(checkSetTime(req(T, 1, 200000), SEED, 0, T, max)).toBe(R.Ok)
        expect(checkSetTime(req(T, 1, 200001), SEED, 0, T, max)).toBe(R.CorrectionTooLarge)
        expect(checkSetTime(req(T, 1, -200001), SEED, 0, T, max)).toBe(R.CorrectionTooLarge)
    })
    test("the MAC binds the trim; a set-time MAC does not authorise a trim; replay", () => {
        const r = req(T, 1, 30000)
        expect(checkSetTime({ time: T, counter: 1, trim: 30001, mac: r.mac }, SEED, 0, T, max)).toBe(R.BadMac)
        const plain = setTimeMac(SEED, T, 1)
        expect(checkSetTime({ time: T, counter: 1, trim: 0, mac: plain }, SEED, 0, T, max)).toBe(R.BadMac)
        expect(checkSetTime(req(T, 3, 0), SEED, 3, T, max)).toBe(R.ReplayedCounter)
        expect(checkSetTime(req(T, 4, 0), SEED, 3, undefined, max)).toBe(R.ClockUntrusted)
    })
})

describe("software trim", () => {
    test("a crystal 25 ppm slow gains 64.8 s back over 30 days; none at the epoch", () => {
        expect(trimmedTime(T, -25000, T)).toBe(T)
        const month = 30 * 86400
        expect(trimmedTime(T + month - 65, -25000, T)).toBe(T + month - 65 + 65)
        expect(trimmedTime(T + month + 78, 30000, T)).toBe(T + month + 78 - 78)
    })
})

describe("screens", () => {
    test("code grouping", () => {
        expect(groupCode("123456")).toBe("123 456")
        expect(groupCode("12345678")).toBe("1234 5678")
    })
    test("e-ink bar changes only every quarter period", () => {
        const eink = { cells: 4, showSeconds: false }
        expect(validityBar(60, 60, eink)).toBe("[####]")
        expect(validityBar(46, 60, eink)).toBe("[####]")
        expect(validityBar(45, 60, eink)).toBe("[###-]")
        expect(validityBar(1, 60, eink)).toBe("[#---]")
    })
    test("OLED bar shows seconds", () => {
        expect(validityBar(37, 60, { cells: 10, showSeconds: true })).toBe("[#######---] 37s")
    })
    test("code screen", () => {
        expect(codeScreen("JT00000042", "123456", 60, 60, { cells: 4, showSeconds: false })).toBe(
            "JT00000042\n123 456\n[####]"
        )
    })
    test("press-to-show: the next code after the bar", () => {
        expect(codeScreen("JT00000042", "123456", 10, 60, { cells: 4, showSeconds: false }, "789012")).toBe(
            "JT00000042\n123 456\n[#---] next 789 012"
        )
    })
    test("always-visible e-ink: no bar, the code's period instead", () => {
        expect(validityBar(37, 60, { cells: 0, showSeconds: false })).toBe("new code every 60 s")
    })
    test("screen kinds and the battery line", () => {
        expect(isCodeScreen("JT00000042\n123 456\n[####]")).toBe(true)
        expect(isCodeScreen("JT00000042\nPress for code")).toBe(false)
        expect(isCodeScreen("Press button to\nwipe\n(10 s)")).toBe(false)
        expect(isConfirmScreen("Press button to\nwipe\n(10 s)")).toBe(true)
        expect(withBatteryLow("JT00000042\nPress for code")).toBe("JT00000042\nPress for code\nBattery low")
    })
})

describe("battery monitor", () => {
    test("low below the threshold, back only 0.1 V above it, unknown readings change nothing", async () => {
        const m = new BatteryMonitor(2.9)
        expect(await m.update(3.1, T)).toBe(false)
        expect(await m.update(undefined, T)).toBe(false)
        expect(await m.update(2.89, T)).toBe(true)
        expect(await m.update(undefined, T)).toBe(true)
        expect(await m.update(2.95, T)).toBe(true)
        expect(await m.update(3.0, -1)).toBe(false)
    })
})

describe("cell age", () => {
    const fresh: CellRecord = { since: T, lowest: 3.3 }
    test("first cells seen are dated; USB readings date nothing", () => {
        const r = nextCellRecord(undefined, 3.3, T)
        expect(r.since).toBe(T)
        expect(r.lowest).toBe(3.3)
        expect(nextCellRecord(undefined, 4.7, T)).toBe(undefined)
        expect(nextCellRecord(fresh, 4.7, T + 86400)).toBe(undefined)
    })
    test("a falling supply keeps the date, stored only per 50 mV", () => {
        expect(nextCellRecord(fresh, 3.27, T + 86400)).toBe(undefined)
        const r = nextCellRecord(fresh, 3.25, T + 86400)
        expect(r.since).toBe(T)
        expect(r.lowest).toBe(3.25)
    })
    test("a rise of 0.15 V above the lowest reading means new cells; less is noise", () => {
        const worn: CellRecord = { since: T, lowest: 3.05 }
        expect(nextCellRecord(worn, 3.15, T + 86400)).toBe(undefined)
        const r = nextCellRecord(worn, 3.3, T + 86400)
        expect(r.since).toBe(T + 86400)
        expect(r.lowest).toBe(3.3)
    })
    test("cells in use 28 days get the mark, kept in flash; new cells clear it; an untrusted clock dates nothing", async () => {
        const days = 86400
        const age = new CellAge(28 * days)
        expect(await age.update(3.3, T)).toBe(false)
        expect(await age.update(3.05, T + 27 * days)).toBe(false)
        expect(await age.update(undefined, T + 28 * days)).toBe(true)
        expect(await new CellAge(28 * days).update(3.05, T + 28 * days)).toBe(true)
        expect(await age.update(3.05, -1)).toBe(false)
        expect(await age.update(3.3, T + 29 * days)).toBe(false)
        expect(await new CellAge(28 * days).update(undefined, T + 30 * days)).toBe(false)
        const monitor = new BatteryMonitor(2.9, new CellAge(28 * days))
        expect(await monitor.update(3.25, T + 56 * days)).toBe(false)
        expect(await monitor.update(3.2, T + 57 * days + 1)).toBe(true)
    })
})

describe("display", () => {
    test("redraws only when the text changes", async () => {
        const drawn: string[] = []
        const d = new TokenDisplay(async t => {
            drawn.push(t)
        })
        await d.show("a")
        await d.show("a")
        await d.show("b")
        await d.show("b")
        expect(drawn.length).toBe(2)
        expect(drawn[1]).toBe("b")
    })
})

describe("power schedule", () => {
    test("next quarter-period boundary with a 4-cell bar", () => {
        expect(nextRedrawTime(1795712700, 60, 0, 4)).toBe(1795712715) // at a boundary: the next one
        expect(nextRedrawTime(1795712709, 60, 0, 4)).toBe(1795712715)
        expect(nextRedrawTime(1795712759, 60, 0, 4)).toBe(1795712760)
    })
    test("next code with cells = 1, and beyond 2038", () => {
        expect(nextRedrawTime(1795712709, 60, 0, 1)).toBe(1795712760)
        expect(nextRedrawTime(4000000001, 30, 0, 1)).toBe(4000000020)
    })
    test("the wake-up time shows a different bar than now", () => {
        const style = { cells: 4, showSeconds: false }
        const t = 1795712709
        const next = nextRedrawTime(t, 60, 0, 4)
        expect(validityBar(60 - (t % 60), 60, style) === validityBar(60 - (next % 60), 60, style)).toBe(false)
    })
})
