import { randomBytes, randomUUID } from "node:crypto";
import { answerChallenge } from "../policy/answer-challenge.js";
import type { Decision, Outcome } from "../policy/outcome.js";
import type { UserState } from "../policy/state.js";
import { verifyPasscode } from "../policy/verify-passcode.js";
import type { ValidatorContext } from "../context.js";
import { appendAudit, type Actor } from "../storage/audit-log.js";
import { applyChange, ConcurrentChange, loadChallenge, loadUserState } from "../storage/validation-state.js";

/**
 * Where a passcode is decided: one transaction reads the user's state, the pure rules decide, the
 * change and the audit record are written together (so counters and the audit log always agree).
 */
export async function validatePasscode(ctx: ValidatorContext, actor: Actor, user: string, passcode: string): Promise<Decision> {
  return decide(ctx, actor, user, "validate", async (state, now) =>
    verifyPasscode(state, { passcode, newChallengeId: newChallengeId() }, now, ctx.policy, ctx.verifiers),
  );
}

export async function respondToChallenge(
  ctx: ValidatorContext,
  actor: Actor,
  user: string,
  challengeId: string,
  response: string,
): Promise<Decision> {
  return decide(ctx, actor, user, "challenge-response", async (state, now, trx) => {
    const challenge = state.known ? await loadChallenge(trx, user, challengeId) : null;
    return answerChallenge(state, { challenge, response, newChallengeId: newChallengeId() }, now, ctx.policy, ctx.verifiers);
  });
}

type Rules = (state: UserState, now: number, trx: ValidatorContext["database"]["db"]) => Promise<Outcome>;

async function decide(ctx: ValidatorContext, actor: Actor, user: string, event: string, rules: Rules): Promise<Decision> {
  const now = ctx.now();
  try {
    return await ctx.database.db.transaction().execute(async (trx) => {
      const state = (await loadUserState(trx, ctx.database.dialect, user, ctx.vault)) ?? decoyState(ctx, user);
      const { decision, change } = await rules(state, now, trx);
      if (state.known) await applyChange(trx, user, change, now);
      await appendAudit(trx, actor, now, auditEntry(event, user, decision));
      return decision;
    });
  } catch (error) {
    if (!(error instanceof ConcurrentChange)) throw error;
    const decision: Decision = { result: "reject", reason: "bad-passcode" };
    await appendAudit(ctx.database.db, actor, now, { ...auditEntry(event, user, decision), detail: { reason: "replay-race" } });
    return decision;
  }
}

function auditEntry(event: string, user: string, decision: Decision) {
  switch (decision.result) {
    case "accept":
      return { event, result: "accept", user, serial: decision.serial, detail: { via: decision.via } };
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

const decoys = new WeakMap<ValidatorContext, Omit<UserState, "user">>();

/**
 * An unknown user is evaluated against a decoy with one token and a PIN, so the reject costs the same
 * work as a known user's.
 */
function decoyState(ctx: ValidatorContext, user: string): UserState {
  let decoy = decoys.get(ctx);
  if (!decoy) {
    decoy = {
      known: false,
      pinVerifier: ctx.verifiers.pinVerifier("", randomBytes(16).toString("hex")),
      lockout: { failures: 0, lastFailureAt: null },
      tokens: [{ serial: "", secret: randomBytes(32), parameters: ctx.policy.token, offset: 0, lastStep: null }],
      emergency: null,
    };
    decoys.set(ctx, decoy);
  }
  return { ...decoy, user };
}
