// Staff members with software tokens (seeds the test knows) for console tests that need no VM.
import { randomBytes } from "node:crypto";
import { addStaff, type StaffRole } from "../../../validator/operations/staff.js";
import { assignToken, registerToken } from "../../../validator/operations/tokens.js";
import { referenceCode, referenceStep } from "../../support/reference-totp.js";
import { rememberSecret } from "../../support/secret-registry.js";
import { hiddenField, type ConsoleVisitor } from "./console-client.js";
import type { RunningValidator } from "../../support/test-validator.js";

const operator = { id: "local:test", role: "operator", source: "cli" };

export interface SoftToken {
  serial: string;
  /** The code of the validator clock's current step. */
  code(): string;
  /** Moves the clock to the next step and returns its code (a code works once). */
  nextCode(): string;
  /** The code of a token whose clock runs `steps` steps ahead of the validator's. */
  codeAhead(steps: number): string;
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
    codeAhead: (steps) => referenceCode(secret, referenceStep(v.clock.now()) + steps),
  };
}

export async function staffMember(v: RunningValidator, user: string, role: StaffRole | null, serial: string): Promise<SoftToken> {
  const token = await softToken(v, serial, user);
  if (role !== null) await addStaff(v.ctx, operator, user, role);
  return token;
}

/** Signs in (first use: code alone, then the new PIN; later: PIN + next code) and lands on the dashboard. */
export async function signIn(visitor: ConsoleVisitor, user: string, token: SoftToken, pin: string, firstUse: boolean) {
  await visitor.get("/console/sign-in");
  let response = await visitor.post("/console/sign-in", { user, passcode: firstUse ? token.nextCode() : pin + token.nextCode() });
  if (firstUse) {
    if (response.status !== 200 || !response.html.includes('name="challenge"')) throw new Error(`no new-pin challenge: ${response.status}`);
    response = await visitor.post("/console/sign-in/challenge", { user, challenge: hiddenField(response.html, "challenge"), response: pin });
  }
  if (response.status !== 303 || response.location !== "/console/") throw new Error(`sign-in of ${user} failed: ${response.status}`);
  return visitor.follow(response);
}
