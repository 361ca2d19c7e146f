import type { Outcome } from "../policy/outcome.js";
import type { UserState } from "../policy/state.js";
import type { ValidatorContext } from "../context.js";
import { verifierKeyId } from "../secrets/verifiers.js";

/**
 * After a master-key rotation, PIN and emergency-password verifiers keyed with the previous key cannot be
 * re-keyed without the secret they verify: an accepted passcode carries it, so its outcome also writes
 * the verifiers it proved, keyed with the current key. Runs after the rules (which stay unaware of keys)
 * and only on an accept, so rejects cost what they did.
 */
export function withRekeyedVerifiers(ctx: ValidatorContext, state: UserState, passcode: string, outcome: Outcome): Outcome {
  const { decision, change } = outcome;
  if (decision.result !== "accept" || change.setPinVerifier) return outcome;
  const current = ctx.vault.currentKeyId;
  const stale = (stored: string | null | undefined): stored is string => !!stored && (verifierKeyId(stored) ?? current) !== current;
  const pinStale = stale(state.pinVerifier);
  const emergencyStale = decision.via === "emergency" && stale(state.emergency?.verifier);
  if (!pinStale && !emergencyStale) return outcome;

  // The passcode is PIN + code, or PIN + emergency password: the rules accepted exactly that split.
  const secretLength =
    decision.via === "emergency"
      ? ctx.policy.emergencyPasswordLength
      : state.tokens.find((token) => token.serial === decision.serial)?.parameters.digits;
  if (secretLength === undefined) return outcome;
  const pin = passcode.slice(0, passcode.length - secretLength);
  const password = passcode.slice(pin.length);
  const { verifiers } = ctx;
  const rekeyed = { ...change };
  // Checked again before writing: a verifier is only ever replaced by one of the same secret.
  if (pinStale && verifiers.pinMatches(state.user, pin, state.pinVerifier!)) rekeyed.rekeyPinVerifier = verifiers.pinVerifier(state.user, pin);
  if (emergencyStale && verifiers.emergencyMatches(state.user, password, state.emergency!.verifier)) {
    rekeyed.rekeyEmergencyVerifier = verifiers.emergencyVerifier(state.user, password);
  }
  return { decision, change: rekeyed };
}
