// The token profile flows into the firmware at build time: build the real firmware for another
// profile (SHA-1, 8 digits, 30 s, another serial format, the XIAO board with its OLED indicator)
// in a scratch copy, run it in the VM, and check what it accepts and shows.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { setTimeMac, TokenResult } from "../../common/token-service/token-protocol.js";
import { startTokenSim, type TokenSim } from "../../hardware/sim/token-sim.js";
import { faceShowing, savePicture } from "./face-pictures.js";
import { readCode, readDigits } from "./face-reader.js";
import { badgerInPowerMode, buildProfileVariant, expectShowsCurrentCode, newSeed, nowSeconds } from "./token-helpers.js";

describe("firmware built for another token profile", () => {
  const dir = mkdtempSync(join(tmpdir(), "jeton-profile-"));
  let sim: TokenSim;

  beforeAll(async () => {
    const image = buildProfileVariant(dir, (base) => ({
      ...base,
      algorithm: "SHA1",
      digits: 8,
      period: 30,
      serialNumber: { pattern: "^AB[0-9]{4}$", example: "AB0001" },
      clock: { maxForwardCorrectionSeconds: 60 },
      board: "seeed-xiao-esp32c3-expansion",
    }));
    sim = await startTokenSim({ image });
  });
  afterAll(async () => {
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the profile register reports the variant", async () => {
    expect(await sim.token.profile()).toBe("jeton-token/1 SHA1 8 30 0 60");
  });

  test("the serial format and seed lengths come from the variant", async () => {
    const t = nowSeconds();
    expect(await sim.token.provision({ time: t, algorithm: "SHA1", serial: "JT00000042", seed: newSeed("SHA1") })).toBe(
      TokenResult.BadSerial,
    );
    expect(await sim.token.provision({ time: t, algorithm: "SHA1", serial: "AB12345", seed: newSeed("SHA1") })).toBe(
      TokenResult.BadSerial,
    );
  });

  test("shows 8-digit 30-second codes with the OLED indicator, and the smaller correction bound", async () => {
    const seed = newSeed("SHA1");
    expect(await sim.token.provision({ time: nowSeconds(), algorithm: "SHA1", serial: "AB1234", seed })).toBe(
      TokenResult.Ok,
    );
    const text = await expectShowsCurrentCode(sim, "AB1234", seed, "SHA1", 8, 30);
    const [, code, bar] = text.split("\n");
    expect(code).toMatch(/^\d{4} \d{4}$/);
    expect(bar).toMatch(/^\[[#-]{10}\] \d{1,2}s$/);
    // drawn on the 128x64 OLED: 8 large digits grouped 4 + 4, each at least 45 % of the height
    const drawn = await faceShowing(sim, (t) => t.startsWith("AB1234\n"));
    expect([drawn.face.width, drawn.face.height]).toEqual([128, 64]);
    expect(readCode(drawn.face)).toBe(drawn.text.split("\n")[1]);
    const digits = readDigits(drawn.face);
    expect(digits).toHaveLength(8);
    for (const d of digits) expect(d.height / drawn.face.height).toBeGreaterThanOrEqual(0.45);
    savePicture("xiao-code", drawn.face, true);
    const t = Math.floor(sim.harness.rtc!.now()) + 61;
    expect(await sim.token.setTime({ time: t, counter: 1, mac: setTimeMac(seed, t, 1) })).toBe(
      TokenResult.CorrectionTooLarge,
    );
  });
});

describe("Badger build with powerMode always-visible", () => {
  const dir = mkdtempSync(join(tmpdir(), "jeton-power-"));
  const log: string[] = [];
  let sim: TokenSim;

  beforeAll(async () => {
    sim = await startTokenSim({ image: buildProfileVariant(dir, badgerInPowerMode("always-visible")), onVmLog: (l) => log.push(l) });
  });
  afterAll(async () => {
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const powerLines = () => log.filter((l) => l.includes("power: "));

  test("after each code redraw it schedules the RTC wake-up for the next code, once per step", async () => {
    const seed = newSeed("SHA256");
    const rtc = sim.harness.rtc!;
    const before = powerLines().length;
    expect(await sim.token.provision({ time: nowSeconds(), algorithm: "SHA256", serial: "JT00000505", seed })).toBe(
      TokenResult.Ok,
    );
    const text = await expectShowsCurrentCode(sim, "JT00000505", seed);
    expect(text.split("\n")[2]).toBe("new code every 60 s");
    const deadline = Date.now() + 5000;
    let wake: number | undefined;
    while (wake === undefined && Date.now() < deadline) {
      const m = powerLines()
        .slice(before)
        .map((l) => /power: wake at (\d+)/.exec(l))
        .find((x) => x);
      if (m) wake = Number(m[1]);
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(wake).toBeDefined();
    // the start of the next code (60 s steps) after the RTC time of the redraw: no wake in between
    const now = rtc.now();
    expect(wake! % 60).toBe(0);
    expect(wake! - now).toBeGreaterThan(-1);
    expect(wake! - now).toBeLessThanOrEqual(61);
  });

  test("a not-provisioned screen powers off with no wake-up, a confirmation prompt never does", async () => {
    const atStart = powerLines().length;
    const wiping = sim.token.wipe();
    await sim.token.waitForScreen((s) => s.startsWith("Press button to"));
    const deadlineHeld = Date.now() + 5000;
    while (!powerLines().slice(atStart).some((l) => l.includes("held")) && Date.now() < deadlineHeld)
      await new Promise((r) => setTimeout(r, 50));
    const sinceWipe = powerLines().slice(atStart);
    const held = sinceWipe.findIndex((l) => l.includes("power: held (confirmation pending)"));
    expect(held, sinceWipe.join("\n")).toBeGreaterThanOrEqual(0);
    // while the prompt is up nothing releases the latch
    expect(sinceWipe.slice(held).some((l) => l.includes("latch released"))).toBe(false);
    const atPrompt = powerLines().length;
    await sim.harness.button.press();
    expect(await wiping).toBe(TokenResult.Ok);
    await sim.token.waitForScreen((s) => s.startsWith("JETON"));
    const deadline = Date.now() + 5000;
    while (!powerLines().slice(atPrompt).some((l) => l.includes("no wake-up")) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const after = powerLines().slice(atPrompt);
    expect(after.some((l) => l.includes("power: no wake-up"))).toBe(true);
  });

  test("cells still above 2.9 V get the battery mark 28 days after they were fresh (lithium's flat curve); new cells clear it", async () => {
    const DAY = 86_400;
    const serial = "JT00000506";
    const rtc = sim.harness.rtc!;
    // the firmware logs each record it stores about the cells: "battery: cells since <t>, lowest <V> V"
    const cellRecord = async (match: (since: number, lowest: number) => boolean) => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const found = log
          .map((l) => /battery: cells since (\d+), lowest ([\d.]+) V/.exec(l))
          .filter((m) => m !== null)
          .map((m) => ({ since: Number(m![1]), lowest: Number(m![2]) }))
          .find((r) => match(r.since, r.lowest));
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no matching cell record in:\n${log.filter((l) => l.includes("battery:")).join("\n")}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const near = (v: number, target: number) => Math.abs(v - target) < 0.01;
    sim.harness.supply.setVolts(3.3);
    const provisionedAt = rtc.now();
    expect(await sim.token.provision({ time: nowSeconds(), algorithm: "SHA256", serial, seed: newSeed("SHA256") })).toBe(TokenResult.Ok);
    const fresh = await cellRecord((since, lowest) => since >= provisionedAt - 2 && near(lowest, 3.3));
    // 27 days on, the cells have fallen to 3.05 V (the model's lithium curve): a new lowest voltage, same date
    await sim.reboot(() => {
      rtc.elapse(27 * DAY);
      sim.harness.supply.setVolts(3.05);
    });
    await cellRecord((since, lowest) => since === fresh.since && near(lowest, 3.05));
    const day27 = await sim.token.waitForScreen((t) => t.startsWith(serial + "\n"));
    expect(day27).not.toContain("Battery low");
    // a day and a minute later, still 3.05 V, far above the 2.9 V threshold: the mark, with the code
    await sim.reboot(() => rtc.elapse(DAY + 60));
    const marked = await sim.token.waitForScreen((t) => t.startsWith(serial + "\n") && t.endsWith("\nBattery low"));
    expect(marked.split("\n")[2]).toBe("new code every 60 s");
    // new cells (3.3 V, 0.25 V above the lowest reading): dated anew, the mark goes. On a board the
    // RTC stops while the cells are out and the help desk sets the time again; here only the supply changes.
    await sim.reboot(() => sim.harness.supply.setVolts(3.3));
    await cellRecord((since, lowest) => since >= fresh.since + 28 * DAY && near(lowest, 3.3));
    await sim.token.waitForScreen((t) => t.startsWith(serial + "\n") && !t.includes("Battery low"));
  });
});
