// A write the token answers with StorageFailed (its record, seed included, saved before the clock could
// be set or saved) is rolled back: the provisioner looks at the token and wipes it (button), and says so.
// An attacker review (2026-12-03) found it reported as a plain refusal, the seed left on the token. The
// token here is a stub answering as the firmware's commit() does (no clock failure can be caused in the VM).
import { describe, expect, test } from "vitest";
import type { TokenClient } from "../../common/token-service/token-client.js";
import { TokenResult } from "../../common/token-service/token-protocol.js";
import { provisionToken, ProvisionFailure } from "../../provisioner/provision.js";
import { hostClock } from "../../provisioner/reference-clock.js";
import { loadProvisionerProfile } from "../../provisioner/token-profile.js";
import type { ValidatorClient } from "../../provisioner/validator-client.js";

describe("StorageFailed from the token after the seed was saved", () => {
  test("a StorageFailed write is rolled back (wipe) or reported as leaving a seed on the token", async () => {
    // A token behaving exactly as commit() does when clock.set() throws: record saved, StorageFailed answered.
    let holdsSeed = false;
    let wipes = 0;
    const token = {
      deviceId: "stub",
      provisioned: async () => holdsSeed,
      serial: async () => (holdsSeed ? "JT00000321" : ""),
      provision: async () => {
        holdsSeed = true;
        return TokenResult.StorageFailed;
      },
      wipe: async () => {
        wipes++;
        holdsSeed = false;
        return TokenResult.Ok;
      },
    } as unknown as TokenClient;
    const validator = {
      findToken: async () => undefined,
      registerToken: async () => {
        throw new Error("must not register");
      },
      assignToken: async () => {
        throw new Error("must not assign");
      },
    } as unknown as ValidatorClient;

    const error = await provisionToken(
      { user: "jdupont", serial: "JT00000321", algorithm: "SHA256" },
      { token, validator, clock: hostClock(), profile: loadProvisionerProfile(), say: () => undefined },
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeDefined();
    // Correct: the token no longer holds the unregistered seed, or the failure says it does.
    expect(holdsSeed && !(error instanceof ProvisionFailure), `token left holding an unregistered seed; message: ${(error as Error).message}`).toBe(false);
    expect(wipes).toBeGreaterThan(0);
  });
});
