import type { Kysely } from "kysely";
import { normaliseUserId } from "../../common/identifiers.js";
import type { ValidatorContext } from "../context.js";
import type { HashAlgorithm } from "../../common/profile.js";
import { appendAudit, type Actor } from "../storage/audit-log.js";
import type { Schema } from "../storage/schema.js";
import { voidChallenges } from "../storage/validation-state.js";
import { OperationError } from "./operation-error.js";

export const disableReasons = ["lost", "stolen", "broken", "other"] as const;
export type DisableReason = (typeof disableReasons)[number];

export interface TokenRegistration {
  serial: string;
  secret: Buffer;
  algorithm?: HashAlgorithm;
  digits?: number;
  period?: number;
}

/** RFC 4226 §4: shared secrets of at least 128 bits. */
const MIN_SECRET_BYTES = 16;

export interface TokenView {
  serial: string;
  user: string | null;
  algorithm: HashAlgorithm;
  digits: number;
  period: number;
  status: "active" | "disabled";
  disabledReason: string | null;
  offsetSteps: number;
  lastUsedAt: string | null;
  createdAt: string;
}

export async function registerToken(ctx: ValidatorContext, actor: Actor, registration: TokenRegistration): Promise<TokenView> {
  if (registration.secret.length < MIN_SECRET_BYTES) {
    throw new OperationError("invalid", `the secret must be at least ${MIN_SECRET_BYTES} bytes (RFC 4226), got ${registration.secret.length}`);
  }
  const now = ctx.now();
  const sealed = ctx.vault.seal(registration.serial, registration.secret);
  const defaults = ctx.policy.token;
  await ctx.database.transaction(async (trx) => {
    const existing = await trx.selectFrom("tokens").select("serial").where("serial", "=", registration.serial).executeTakeFirst();
    if (existing) throw new OperationError("conflict", `token ${registration.serial} is already registered`);
    await trx
      .insertInto("tokens")
      .values({
        serial: registration.serial,
                algorithm: registration.algorithm ?? defaults.algorithm,
        digits: registration.digits ?? defaults.digits,
        period: registration.period ?? defaults.period,
        t0: defaults.t0,
        sealed_secret: sealed.ciphertext,
        key_id: sealed.keyId,
        created_at: now,
      })
      .execute();
    await appendAudit(trx, actor, now, { event: "token.register", result: "ok", serial: registration.serial });
  });
  return getToken(ctx, registration.serial);
}

export async function getToken(ctx: ValidatorContext, serial: string): Promise<TokenView> {
  const row = await ctx.database.db.selectFrom("tokens").selectAll().where("serial", "=", serial).executeTakeFirst();
  if (!row) throw new OperationError("not-found", `no token ${serial}`);
  return {
    serial: row.serial,
    user: row.user_name,
    algorithm: row.algorithm as HashAlgorithm,
    digits: row.digits,
    period: row.period,
    status: row.disabled_at === null ? "active" : "disabled",
    disabledReason: row.disabled_reason,
    offsetSteps: row.offset_steps,
    lastUsedAt: row.last_used_at === null ? null : new Date(row.last_used_at).toISOString(),
    createdAt: new Date(row.created_at).toISOString(),
  };
}

/** Ties a token to a user (created on first assignment); a user keeps the PIN across replacements. */
export async function assignToken(ctx: ValidatorContext, actor: Actor, serial: string, givenUser: string): Promise<TokenView> {
  const user = normaliseUserId(givenUser);
  const now = ctx.now();
  await ctx.database.transaction(async (trx) => {
    const token = await trx.selectFrom("tokens").select(["user_name", "disabled_at"]).where("serial", "=", serial).executeTakeFirst();
    if (!token) throw new OperationError("not-found", `no token ${serial}`);
    if (token.user_name !== null && token.user_name !== user) {
      throw new OperationError("conflict", `token ${serial} is assigned to another user: unassign it first`);
    }
    if (token.user_name === null && token.disabled_at === null) await refuseBeyondTokensPerUser(ctx, trx, user, serial);
    await trx
      .insertInto("users")
      .values({ name: user, pin_verifier: null, last_failure_at: null, created_at: now })
      .onConflict((conflict) => conflict.column("name").doNothing())
      .execute();
    await trx.updateTable("tokens").set({ user_name: user }).where("serial", "=", serial).execute();
    await voidChallenges(trx, user);
    await appendAudit(trx, actor, now, { event: "token.assign", result: "ok", user, serial });
  });
  return getToken(ctx, serial);
}

export async function unassignToken(ctx: ValidatorContext, actor: Actor, serial: string): Promise<TokenView> {
  return updateToken(ctx, actor, serial, "token.unassign", { user_name: null });
}

export async function disableToken(ctx: ValidatorContext, actor: Actor, serial: string, reason: DisableReason): Promise<TokenView> {
  return updateToken(ctx, actor, serial, "token.disable", { disabled_reason: reason, disabled_at: ctx.now() }, { reason });
}

export async function enableToken(ctx: ValidatorContext, actor: Actor, serial: string): Promise<TokenView> {
  return updateToken(ctx, actor, serial, "token.enable", { disabled_reason: null, disabled_at: null });
}

/**
 * Every passcode is checked against `tokensPerUser` tokens whatever the user holds (so timing tells
 * nothing), which makes it a limit on the active tokens of one user.
 */
async function refuseBeyondTokensPerUser(ctx: ValidatorContext, trx: Kysely<Schema>, user: string, serial: string): Promise<void> {
  const active = await trx
    .selectFrom("tokens")
    .select("serial")
    .where("user_name", "=", user)
    .where("disabled_at", "is", null)
    .where("serial", "!=", serial)
    .execute();
  if (active.length >= ctx.policy.tokensPerUser) {
    throw new OperationError(
      "conflict",
      `${user} already holds ${active.length} active tokens (${active.map((token) => token.serial).join(", ")}), ` +
        `the most a user may hold: disable or unassign one first`,
    );
  }
}

async function updateToken(
  ctx: ValidatorContext,
  actor: Actor,
  serial: string,
  event: string,
  values: { user_name?: null; disabled_reason?: string | null; disabled_at?: number | null },
  detail?: Record<string, unknown>,
): Promise<TokenView> {
  const now = ctx.now();
  await ctx.database.transaction(async (trx) => {
    const token = await trx.selectFrom("tokens").select(["user_name", "disabled_at"]).where("serial", "=", serial).executeTakeFirst();
    if (!token) throw new OperationError("not-found", `no token ${serial}`);
    const enabling = values.disabled_at === null && token.disabled_at !== null;
    if (enabling && token.user_name !== null) await refuseBeyondTokensPerUser(ctx, trx, token.user_name, serial);
    await trx.updateTable("tokens").set(values).where("serial", "=", serial).execute();
    // Whatever changes a user's tokens voids the challenges opened on them.
    if (token.user_name !== null) await voidChallenges(trx, token.user_name);
    await appendAudit(trx, actor, now, { event, result: "ok", user: token.user_name, serial, detail });
  });
  return getToken(ctx, serial);
}
