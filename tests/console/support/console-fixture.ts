// Staff members with software tokens (seeds the test knows) for console tests that need no VM.
import { randomBytes } from "node:crypto";
import { addStaff, type StaffRole } from "../../../validator/operations/staff.js";
import { assignToken, registerToken } from "../../../validator/operations/tokens.js";
import { referenceCode, referenceStep } from "../../support/reference-totp.js";
import { rememberSecret } from "../../support/secret-registry.js";
import type { RunningValidator } from "../../support/test-validator.js";

const operator = { id: "local:test", role: "operator", source: "cli" };

export interface SoftToken {
  serial: string;
  /** The code of the validator clock's current step. */
  code(): string;
  /** Moves the clock to the next step and returns its code (a code works once). */
  nextCode(): string;
}

export async function softToken(v: RunningValidator, serial: string, user: string | null): Promise<SoftToken> {
  const secret = randomBytes(32);
  rememberSecret(secret.toString("hex"));
  await registerToken(v.ctx, operator, { serial, secret });
  if (user !== null) await assignToken(v.ctx, operator, serial, user);
  const code = () => referenceCode(secret, referenceStep(v.clock.now()));
  return {
    serial,
    code,
    nextCode() {
      v.clock.advance(60);
      return code();
    },
  };
}

export async function staffMember(v: RunningValidator, user: string, role: StaffRole | null, serial: string): Promise<SoftToken> {
  const token = await softToken(v, serial, user);
  if (role !== null) await addStaff(v.ctx, operator, user, role);
  return token;
}
