import { randomBytes } from "node:crypto";
import { expect } from "vitest";
import { referenceCode, referenceStep } from "./reference-totp.js";
import { rememberSecret } from "./secret-registry.js";
import type { RunningValidator } from "./test-validator.js";

/**
 * Users each holding a fresh SHA-256 token (serial `<prefix>-<user>`), with a PIN already chosen (written
 * straight to the database) or none (first use), and the codes their tokens show. `validator` is read at
 * each call, so a suite may start it in beforeAll.
 */
export function tokenHolders(validator: () => RunningValidator, serialPrefix: string) {
  const seeds = new Map<string, Buffer>();
  return {
    async add(user: string, pin: string | null): Promise<void> {
      const v = validator();
      const seed = randomBytes(32);
      seeds.set(user, seed);
      const serial = `${serialPrefix}-${user}`;
      expect((await v.request("POST", "/v1/tokens", { serial, secretHex: seed.toString("hex") })).status).toBe(201);
      expect((await v.request("POST", `/v1/tokens/${serial}/assign`, { user })).status).toBe(200);
      if (pin !== null) {
        rememberSecret(pin);
        await v.ctx.database.db.updateTable("users").set({ pin_verifier: v.ctx.verifiers.pinVerifier(user, pin) }).where("name", "=", user).execute();
      }
    },
    /** The user's code `stepsAhead` steps from the clock's current step (remembered as a secret, alone and after `pin`). */
    code(user: string, stepsAhead = 0, pin = ""): string {
      const value = referenceCode(seeds.get(user)!, referenceStep(validator().clock.millis) + stepsAhead);
      rememberSecret(value);
      if (pin) rememberSecret(pin + value);
      return value;
    },
  };
}
