import { randomBytes, randomUUID } from "node:crypto";
import { normaliseUserId } from "../../common/identifiers.js";
import { answerChallenge } from "../policy/answer-challenge.js";
import type { Decision, Outcome, StateChange } from "../policy/outcome.js";
import type { ChallengeState, TokenState, UserState } from "../policy/state.js";
import { verifyPasscode } from "../policy/verify-passcode.js";
import type { ValidatorContext } from "../context.js";
import type { SealedSeed } from "../secrets/seed-vault.js";
import { appendAudit, type Actor } from "../storage/audit-log.js";
import { attemptedUser } from "./audit.js";
import { withRekeyedVerifiers } from "./verifier-rekey.js";
import { ConcurrentChange, type LoadedAttempt, type StoredUserState } from "../storage/attempt-store.js";

/**
 * Where a passcode is decided: one transaction reads the user's state, the pure rules decide, the
 * change and the audit record are written together (so counters and the audit log always agree).
 */
export async function validatePasscode(ctx: ValidatorContext, actor: Actor, user: string, passcode: string, door?: Admission): Promise<Decision> {
  const emergencyAccepted = door?.acceptsEmergencyPasswords ?? true;
  return decide(ctx, actor, user, "validate", null, door, (state, _challenge, now) =>
    withRekeyedVerifiers(ctx, state, passcode, verifyPasscode(state, { passcode, newChallengeId: newChallengeId(), emergencyAccepted }, now, ctx.policy, ctx.verifiers)),
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
  // The challenge is looked up for unknown users too (nothing is found): answering costs the same work either way.
  return decide(ctx, actor, user, "challenge-response", challengeId, door, (state, challenge, now) =>
    answerChallenge(state, { challenge, response, newChallengeId: newChallengeId() }, now, ctx.policy, ctx.verifiers),
  );
}

/**
 * A front door that opens to some users only (the support console: staff). `admits` looks at what the
 * attempt loaded, before anything is written: a user it refuses is treated exactly like an unknown user
 * (same work, same generic reject, nothing consumed or counted).
 */
export interface Admission {
  admits(loaded: LoadedAttempt): boolean;
  /** False: an emergency password is not a way in here (the passcode is then simply wrong). */
  acceptsEmergencyPasswords: boolean;
}

type Rules = (state: UserState, challenge: ChallengeState | null, now: number) => Outcome;

async function decide(
  ctx: ValidatorContext,
  actor: Actor,
  givenUser: string,
  event: string,
  challengeId: string | null,
  door: Admission | undefined,
  rules: Rules,
): Promise<Decision> {
  const user = normaliseUserId(givenUser);
  const now = ctx.now();
  try {
    const { decision, locks } = await ctx.database.attempts.run({ user, challengeId, actor, now }, (loaded) => {
      const refused = door !== undefined && !door.admits(loaded) && loaded.state !== null;
      const state = withDecoys(ctx, user, refused ? null : loaded.state);
      const { decision, change } = rules(state, loaded.challenge, now);
      return {
        change,
        audit: refused ? { event, result: "reject", user, detail: { reason: "not-admitted" } } : auditEntry(ctx, event, user, decision, change),
        result: { decision, locks: state.known && change.failures === "increment" && state.lockout.failures + 1 === ctx.policy.lockAfter },
      };
    });
    if (locks) ctx.metrics.userLocked();
    return decision;
  } catch (error) {
    if (!(error instanceof ConcurrentChange)) throw error;
    const decision: Decision = { result: "reject", reason: "bad-passcode" };
    await ctx.database.transaction((trx) => appendAudit(trx, actor, now, { ...auditEntry(ctx, event, user, decision), detail: { reason: "replay-race" } }));
    return decision;
  }
}

function auditEntry(ctx: ValidatorContext, event: string, user: string, decision: Decision, change: StateChange = {}) {
  switch (decision.result) {
    case "accept":
      // The consumed step lets an auditor (and the crash check) match tokens' last steps to the log.
      return { event, result: "accept", user, serial: decision.serial, detail: { via: decision.via, ...(change.acceptStep && { step: change.acceptStep.step }) } };
    case "reject": {
      const named = attemptedUser(ctx, user, decision.reason !== "unknown-user");
      return { event, result: "reject", user: named.user, detail: { reason: decision.reason, ...named.detail } };
    }
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
 *
 * Seeds are opened when the rules first read them. A passcode reject reads every token (it searches every
 * token's whole window), and a challenge answer refused before its token is looked up reads none, for
 * any user alike; an accept found on the held token (held tokens come first) opens no decoy.
 */
function withDecoys(ctx: ValidatorContext, user: string, stored: StoredUserState | null): UserState {
  let decoy = decoys.get(ctx);
  if (!decoy) {
    decoy = { sealed: ctx.vault.seal("", randomBytes(32)), parameters: ctx.policy.token, pinVerifier: ctx.verifiers.pinVerifier("", randomUUID()) };
    decoys.set(ctx, decoy);
  }
  const { sealed: decoySeed } = decoy;
  const held = (stored?.tokens ?? []).map(({ sealed, ...token }) => openedWhenRead(token, () => ctx.vault.open(token.serial, sealed)));
  const padding = Array.from({ length: Math.max(0, ctx.policy.tokensPerUser - held.length) }, () =>
    openedWhenRead(
      {
        serial: "",
        // The held token's parameters when there is one, so the padding adds no second code length to try.
        parameters: held[0]?.parameters ?? decoy.parameters,
        offset: 0,
        lastStep: null,
        decoy: true,
      },
      () => ctx.vault.open("", decoySeed),
    ),
  );
  if (stored !== null) return { ...stored, tokens: [...held, ...padding] };
  return { user, known: false, pinVerifier: decoy.pinVerifier, lockout: { failures: 0, lastFailureAt: null }, epoch: 0, tokens: padding, emergency: null };
}

function openedWhenRead(token: Omit<TokenState, "secret">, open: () => Uint8Array): TokenState {
  let secret: Uint8Array | undefined;
  return {
    ...token,
    get secret() {
      return (secret ??= open());
    },
  };
}
