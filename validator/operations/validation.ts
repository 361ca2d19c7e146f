import { randomBytes, randomUUID } from "node:crypto";
import { normaliseUserId } from "../../common/identifiers.js";
import { answerChallenge } from "../policy/answer-challenge.js";
import type { Decision, Outcome, StateChange } from "../policy/outcome.js";
import type { TokenState, UserState } from "../policy/state.js";
import { verifyPasscode } from "../policy/verify-passcode.js";
import type { ValidatorContext } from "../context.js";
import type { SealedSeed } from "../secrets/seed-vault.js";
import { appendAudit, type Actor } from "../storage/audit-log.js";
import { withRekeyedVerifiers } from "./verifier-rekey.js";
import { applyChange, ConcurrentChange, loadChallenge, loadUserState } from "../storage/validation-state.js";

/**
 * Where a passcode is decided: one transaction reads the user's state, the pure rules decide, the
 * change and the audit record are written together (so counters and the audit log always agree).
 */
export async function validatePasscode(ctx: ValidatorContext, actor: Actor, user: string, passcode: string, door?: Admission): Promise<Decision> {
  return decide(ctx, actor, user, "validate", door, async (state, now) =>
    withRekeyedVerifiers(ctx, state, passcode, verifyPasscode(state, { passcode, newChallengeId: newChallengeId() }, now, ctx.policy, ctx.verifiers)),
  );
}

export async function respondToChallenge(
  ctx: ValidatorContext,
  actor: Actor,
  user: string,
  challengeId: string,
  response: string,
  door?: Admission,
): Promise<Decision> {
  return decide(ctx, actor, user, "challenge-response", door, async (state, now, trx) => {
    // Loaded for unknown users too (nothing is found): answering costs the same work either way.
    const challenge = await loadChallenge(trx, state.user, challengeId);
    return answerChallenge(state, { challenge, response, newChallengeId: newChallengeId() }, now, ctx.policy, ctx.verifiers);
  });
}

/**
 * A front door that opens to some users only (the support console: staff). `admits` runs in the
 * validation's transaction, before anything is written: a user it refuses is treated exactly like an
 * unknown user (same work, same generic reject, nothing consumed or counted).
 */
export interface Admission {
  admits(trx: ValidatorContext["database"]["db"], user: string): Promise<boolean>;
  /** False: an emergency password is not a way in here (the passcode is then simply wrong). */
  acceptsEmergencyPasswords: boolean;
}

type Rules = (state: UserState, now: number, trx: ValidatorContext["database"]["db"]) => Promise<Outcome>;

async function decide(ctx: ValidatorContext, actor: Actor, givenUser: string, event: string, door: Admission | undefined, rules: Rules): Promise<Decision> {
  const user = normaliseUserId(givenUser);
  const now = ctx.now();
  try {
    const { decision, locks } = await ctx.database.transaction(async (trx) => {
      const loaded = await loadUserState(trx, ctx.database.dialect, user, ctx.vault);
      // Asked for unknown users too, so the reject costs the same work either way.
      const refused = door !== undefined && !(await door.admits(trx, user)) && loaded !== null;
      const admitted = refused ? null : loaded && door?.acceptsEmergencyPasswords === false ? { ...loaded, emergency: null } : loaded;
      const state = withDecoys(ctx, user, admitted);
      const { decision, change } = await rules(state, now, trx);
      await applyChange(trx, user, change, now);
      const entry = auditEntry(event, user, decision, change);
      await appendAudit(trx, actor, now, refused ? { ...entry, detail: { reason: "not-admitted" } } : entry);
      return { decision, locks: state.known && change.failures === "increment" && state.lockout.failures + 1 === ctx.policy.lockAfter };
    });
    if (locks) ctx.metrics.userLocked();
    return decision;
  } catch (error) {
    if (!(error instanceof ConcurrentChange)) throw error;
    const decision: Decision = { result: "reject", reason: "bad-passcode" };
    await ctx.database.transaction((trx) => appendAudit(trx, actor, now, { ...auditEntry(event, user, decision), detail: { reason: "replay-race" } }));
    return decision;
  }
}

function auditEntry(event: string, user: string, decision: Decision, change: StateChange = {}) {
  switch (decision.result) {
    case "accept":
      // The consumed step lets an auditor (and the crash check) match tokens' last steps to the log.
      return { event, result: "accept", user, serial: decision.serial, detail: { via: decision.via, ...(change.acceptStep && { step: change.acceptStep.step }) } };
    case "reject":
      return { event, result: "reject", user, detail: { reason: decision.reason } };
    case "challenge":
      return { event, result: "challenge", user, detail: { kind: decision.kind, ...(decision.weakPin && { weakPin: decision.weakPin }) } };
  }
}

/** randomUUID draws from a pooled CSPRNG buffer: cheap enough to make one for every attempt. */
function newChallengeId(): string {
  return randomUUID();
}

const decoys = new WeakMap<ValidatorContext, { sealed: SealedSeed; parameters: TokenState["parameters"]; pinVerifier: string }>();

/**
 * Every user is checked against `policy.tokensPerUser` tokens: those they hold, padded with decoy tokens
 * (and an unknown user against a decoy PIN), so a reject costs the same work whoever the user is and
 * however many tokens they hold, down to opening a sealed seed.
 */
function withDecoys(ctx: ValidatorContext, user: string, state: UserState | null): UserState {
  let decoy = decoys.get(ctx);
  if (!decoy) {
    decoy = { sealed: ctx.vault.seal("", randomBytes(32)), parameters: ctx.policy.token, pinVerifier: ctx.verifiers.pinVerifier("", randomUUID()) };
    decoys.set(ctx, decoy);
  }
  const held = state?.tokens ?? [];
  const padding = Array.from({ length: Math.max(0, ctx.policy.tokensPerUser - held.length) }, (): TokenState => ({
    serial: "",
    secret: ctx.vault.open("", decoy.sealed),
    // The held token's parameters when there is one, so the padding adds no second code length to try.
    parameters: held[0]?.parameters ?? decoy.parameters,
    offset: 0,
    lastStep: null,
    decoy: true,
  }));
  if (state !== null) return { ...state, tokens: [...held, ...padding] };
  return { user, known: false, pinVerifier: decoy.pinVerifier, lockout: { failures: 0, lastFailureAt: null }, epoch: 0, tokens: padding, emergency: null };
}
