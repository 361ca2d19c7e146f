import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jacdac } from "../../common/token-service/jacdac.js";
import { TokenCommand, TokenResult } from "../../common/token-service/token-protocol.js";
import { startTokenSim, type TokenSim } from "../../hardware/sim/token-sim.js";
import { newSeed, nowSeconds, profile } from "../firmware/token-helpers.js";
import { vmFuzzRuns, vmFuzzTimeoutMs } from "./fuzz-runs.js";

/**
 * The token service's packet decoding in the real firmware (DeviceScript VM): any payload for provision
 * or set-time is answered with a refusal, and the token's seed, serial, counter and clock stay as they were.
 * (Wipe is left out: it waits for the button, and without a press it changes nothing anyway.)
 */
describe("fuzz: token service packets", () => {
  let sim: TokenSim;
  const serial = "JT00000777";
  const seed = newSeed();

  beforeAll(async () => {
    sim = await startTokenSim();
    expect(await sim.token.provision({ time: nowSeconds(), algorithm: profile.algorithm, serial, seed })).toBe(TokenResult.Ok);
  });
  afterAll(async () => {
    await sim?.close();
  });

  const state = async () => ({
    serial: await sim.token.serial(),
    fingerprint: (await sim.token.secretFingerprint()).toString("hex"),
    counter: await sim.token.setTimeCounter(),
    clock: await sim.token.clockState(),
    rtcWrites: sim.harness.rtc!.writes.length,
  });

  it("answers every random provision or set-time payload with a refusal and changes nothing", async () => {
    const before = await state();
    const refusals = new Set<number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(TokenCommand.Provision, TokenCommand.SetTime),
        fc.uint8Array({ maxLength: 236 }),
        async (command, payload) => {
          const response = await sim.token.token.sendCmdAwaitResponseAsync(jacdac.Packet.from(command, payload), 5000);
          expect(response, `no answer to 0x${command.toString(16)} with ${payload.length} bytes`).toBeTruthy();
          const result = response!.data[0]!;
          expect(result).not.toBe(TokenResult.Ok);
          expect(Object.values(TokenResult)).toContain(result);
          refusals.add(result);
        },
      ),
      { numRuns: vmFuzzRuns },
    );
    expect(await state()).toEqual(before);
    expect(refusals.size).toBeGreaterThan(1);
  }, vmFuzzTimeoutMs);
});
