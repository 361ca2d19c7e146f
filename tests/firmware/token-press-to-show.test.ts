// Badger build with powerMode "press-to-show", in the VM with the simulated button and clock: at
// rest the face says "Press for code" and the board powers off; a press (or the provisioning)
// shows the code until the end of its time step, the next code too when fewer than 15 s are left,
// then it rests again. A press made before a confirmation prompt does not confirm it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { setTimeTrimMac, TokenResult } from "../../common/token-service/token-protocol.js";
import { startTokenSim, type TokenSim } from "../../hardware/sim/token-sim.js";
import { faceShowing, savePicture } from "./face-pictures.js";
import { readCode, readDigits } from "./face-reader.js";
import { badgerInPowerMode, buildProfileVariant, grouped, newSeed, profile, referenceTotp, SCREEN } from "./token-helpers.js";

describe("Badger build with powerMode press-to-show", () => {
  const dir = mkdtempSync(join(tmpdir(), "jeton-press-"));
  const log: string[] = [];
  let sim: TokenSim;
  const serial = "JT00000606";
  const seed = newSeed("SHA256");
  const rest = `${serial}\nPress for code`;

  beforeAll(async () => {
    sim = await startTokenSim({ image: buildProfileVariant(dir, badgerInPowerMode("press-to-show")), onVmLog: (l) => log.push(l) });
  });
  afterAll(async () => {
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const powerLines = (from: number) => log.slice(from).filter((l) => l.includes("power: "));
  async function waitForPower(from: number, text: string): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!powerLines(from).some((l) => l.includes(text))) {
      if (Date.now() > deadline) throw new Error(`no "${text}" power decision; got:\n${powerLines(from).join("\n")}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  test("not provisioned: the message stays on the glass and the board powers off", async () => {
    await sim.token.waitForScreen((t) => t === SCREEN.notProvisioned);
    await waitForPower(0, "power: no wake-up, latch released");
  });

  test("provisioning shows the code to the end of the step, with the next code in its last 15 s, then rests", async () => {
    // provision 12 s before a step ends: the token shows the current and the next code at once
    const period = profile.period;
    const now = Math.floor(Date.now() / 1000);
    const time = (Math.floor(now / period) + 1) * period - 12;
    const from = log.length;
    expect(await sim.token.provision({ time, algorithm: "SHA256", serial, seed })).toBe(TokenResult.Ok);
    const { text, face } = await faceShowing(sim, (t) => t.startsWith(`${serial}\n`) && t.includes(" next "));
    const [, code, footer] = text.split("\n");
    expect(code).toBe(grouped(referenceTotp(seed, time)));
    expect(footer).toBe(`[#---] next ${grouped(referenceTotp(seed, time + period))}`);
    expect(readCode(face)).toBe(code);
    savePicture("badger-press-code-and-next", face);
    await waitForPower(from, "power: held (code shown)");

    const atCode = log.length;
    const rested = await faceShowing(sim, (t) => t === rest, 20_000);
    expect(readDigits(rested.face)).toEqual([]);
    expect(sim.harness.rtc!.now()).toBeGreaterThanOrEqual(time + 12 - 1);
    savePicture("badger-press-for-code", rested.face);
    await waitForPower(atCode, "power: no wake-up, latch released");
  });

  test("a button press shows the current code until the end of its step", async () => {
    const from = log.length;
    await sim.harness.button.press();
    const { text, face } = await faceShowing(sim, (t) => t.startsWith(`${serial}\n`) && t !== rest);
    const t = sim.harness.rtc!.now();
    const code = text.split("\n")[1];
    expect([t - 2, t].map((s) => grouped(referenceTotp(seed, s)))).toContain(code);
    expect(readCode(face)).toBe(code);
    await waitForPower(from, "power: held (code shown)");
  });

  test("a wipe nobody confirms shows no code: the prompt comes and goes over the resting face", async () => {
    // An attacker review (2026-12-03): a USB host read a resting token's code by asking for a wipe and
    // letting the prompt time out, since the prompt's redraws counted as a press.
    await sim.token.waitForScreen((t) => t === rest, 70_000);
    expect(await sim.token.wipe()).toBe(TokenResult.NotConfirmed);
    expect(await sim.token.screenText()).toBe(rest);
    await expect(sim.token.waitForScreen((t) => t.startsWith(`${serial}\n`) && t !== rest, 3_000)).rejects.toThrow();
  });

  test("the press that showed the code does not confirm a wipe; a press during the prompt does", async () => {
    await sim.harness.button.press();
    const unconfirmed = sim.token.wipe();
    await sim.token.waitForScreen((t) => t === SCREEN.confirm("wipe"));
    expect(await unconfirmed).toBe(TokenResult.NotConfirmed);
    expect(await sim.token.provisioned()).toBe(true);

    const wiping = sim.token.wipe();
    await sim.token.waitForScreen((t) => t === SCREEN.confirm("wipe"));
    await sim.harness.button.press();
    expect(await wiping).toBe(TokenResult.Ok);
    await sim.token.waitForScreen((t) => t === SCREEN.notProvisioned);
  });

  test("set back after the next code was shown, the token shows that code no more (it held through its step)", async () => {
    // Provisioned 12 s before a step ends: the code of step S and, as "next", that of S+1 are shown.
    const period = profile.period;
    const time = (Math.floor(Date.now() / 1000 / period) + 1) * period - 12;
    const step = Math.floor(time / period);
    expect(await sim.token.provision({ time, algorithm: "SHA256", serial, seed })).toBe(TokenResult.Ok);
    const nextShown = grouped(referenceTotp(seed, (step + 1) * period));
    await sim.token.waitForScreen((t) => t.includes(`next ${nextShown}`), 8_000);
    // An authenticated correction 5 s back (a fast crystal), confirmed with the button.
    const back = (await sim.token.deviceTime()) - 5;
    const press = sim.token.waitForScreen((t) => t === SCREEN.confirm("set clock back"), 8_000).then(() => sim.harness.button.press());
    expect(await sim.token.setTimeTrim(back, 1, 0, setTimeTrimMac(seed, back, 1, 0))).toBe(TokenResult.Ok);
    await press;
    // Into step S+1 by the token's clock, the code it showed as "next" must not come back (it was typed,
    // perhaps: the validator would refuse it as a replay and count a failure).
    while ((await sim.token.deviceTime()) < (step + 1) * period + 2) await new Promise((resolve) => setTimeout(resolve, 250));
    await sim.harness.button.press();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await sim.token.screenText()).not.toContain(nextShown);
  });
});
