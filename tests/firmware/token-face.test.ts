// The face the firmware draws (Badger build, 296x128 e-ink), read back as pixels through the face
// service: the code is drawn as large digits grouped "123 456", each at least 45 % of the display
// height, and reads back as the code RFC 6238 gives; other screens draw no digits.
import { statSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { FacePicture } from "../../hardware/sim/face-client.js";
import { TokenResult } from "../../common/token-service/token-protocol.js";
import { startTokenSim, type TokenSim } from "../../hardware/sim/token-sim.js";
import { faceShowing, savePicture } from "./face-pictures.js";
import { readCode, readDigits } from "./face-reader.js";
import { grouped, newSeed, nowSeconds, referenceTotp, SCREEN } from "./token-helpers.js";

describe("the drawn face (Badger e-ink)", () => {
  let sim: TokenSim;
  const seed = newSeed();
  const serial = "JT00000042";
  beforeAll(async () => {
    sim = await startTokenSim();
  });
  afterAll(async () => {
    await sim?.close();
  });

  test("the image fits the 32 KB program budget", () => {
    expect(statSync(sim.vm.image).size).toBeLessThanOrEqual(32_768);
  });

  test("not provisioned: a drawn message, no digits", async () => {
    const { face } = await faceShowing(sim, (t) => t === SCREEN.notProvisioned);
    expect([face.width, face.height]).toEqual([296, 128]);
    expect(face.ink.some((p) => p === 1)).toBe(true);
    expect(readDigits(face)).toEqual([]);
    savePicture("badger-not-provisioned", face);
  });

  test("the code: large digits grouped 123 456, at least 45 % of the height, the RFC 6238 code", async () => {
    expect(await sim.token.provision({ time: nowSeconds(), algorithm: "SHA256", serial, seed })).toBe(TokenResult.Ok);
    const { text, face } = await faceShowing(sim, (t) => t.startsWith(serial));
    const shown = text.split("\n")[1];
    const t = sim.harness.rtc!.now();
    expect([t - 2, t].map((s) => grouped(referenceTotp(seed, s)))).toContain(shown);
    expect(readCode(face)).toBe(shown);
    const digits = readDigits(face);
    expect(digits).toHaveLength(6);
    for (const d of digits) expect(d.height / face.height).toBeGreaterThanOrEqual(0.45);
    savePicture("badger-code", face);
  });

  test("battery low: a mark top right below 2.9 V, still the code; gone once the supply recovers", async () => {
    const inkTopRight = (face: FacePicture) => {
      let n = 0;
      for (let y = 0; y < 20; y++) for (let x = 200; x < face.width; x++) n += face.ink[y * face.width + x];
      return n;
    };
    sim.harness.supply.setVolts(2.85);
    const low = await faceShowing(sim, (t) => t.startsWith(serial) && t.endsWith("\nBattery low"));
    expect(readCode(low.face)).toBe(low.text.split("\n")[1]);
    expect(inkTopRight(low.face)).toBeGreaterThan(50);
    savePicture("badger-battery-low", low.face);
    sim.harness.supply.setVolts(3.1);
    const fine = await faceShowing(sim, (t) => t.startsWith(serial) && !t.includes("Battery low"));
    expect(inkTopRight(fine.face)).toBe(0);
  });

  test("a confirmation prompt draws no digits", async () => {
    const wiping = sim.token.wipe();
    const { face } = await faceShowing(sim, (t) => t === SCREEN.confirm("wipe"));
    expect(readDigits(face)).toEqual([]);
    savePicture("badger-confirm", face);
    expect(await wiping).toBe(TokenResult.NotConfirmed);
  });

  test("clock integrity lost: the warning, no digits", async () => {
    sim.harness.rtc!.jump(3600);
    const { face } = await faceShowing(sim, (t) => t === SCREEN.clockLost(serial));
    expect(readDigits(face)).toEqual([]);
    savePicture("badger-clock-lost", face);
  });
});
