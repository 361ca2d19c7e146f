import type { Kysely } from "kysely";
import { normaliseUserId } from "../../common/identifiers.js";
import type { ValidatorContext } from "../context.js";
import type { HashAlgorithm } from "../../common/profile.js";
import type { AccountOpening } from "../policy/staff-accounts.js";
import { expectedStep } from "../policy/window.js";
import { appendAudit, type Actor } from "../storage/audit-log.js";
import type { Schema } from "../storage/schema.js";
import { voidChallenges } from "../storage/challenge-epoch.js";
import { endConsoleSessions } from "../storage/console-session-end.js";
import { OperationError } from "./operation-error.js";
import { openingRefusal, refusableTransaction } from "./staff.js";

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
  /** When its clock was last set and to what (null: unknown), and the trim it applies: `jeton resync` measures its rate from them. */
  clock: { setAt: string | null; setTo: number | null; trimPpb: number };
}

export async function registerToken(ctx: ValidatorContext, actor: Actor, registration: TokenRegistration): Promise<TokenView> {
  // The provisioner registers a token right after writing its seed and time: its clock was set now.
  const [token] = await registerTokens(ctx, actor, [registration], { clockSetNow: true });
  return token!;
}

/** How many tokens one batch registration may hold (a PSKC file larger than this is split by its sender). */
export const MAX_BATCH_TOKENS = 1000;

/**
 * Registers every token or none, in one transaction: a serial or a seed already registered (or twice in
 * the list) refuses the whole list, naming each problem. A seed is compared by its keyed fingerprint, so
 * the same secret is never accepted under two serials — one passcode would otherwise be accepted twice.
 */
export async function registerTokens(
  ctx: ValidatorContext,
  actor: Actor,
  registrations: TokenRegistration[],
  { clockSetNow = false }: { clockSetNow?: boolean } = {},
): Promise<TokenView[]> {
  if (registrations.length === 0 || registrations.length > MAX_BATCH_TOKENS) {
    throw new OperationError("invalid", `register 1–${MAX_BATCH_TOKENS} tokens at a time, got ${registrations.length}`);
  }
  const short = registrations.filter((r) => r.secret.length < MIN_SECRET_BYTES);
  if (short.length > 0) {
    throw new OperationError(
      "invalid",
      short.map((r) => `token ${r.serial}: the secret must be at least ${MIN_SECRET_BYTES} bytes (RFC 4226), got ${r.secret.length}`).join("; "),
    );
  }
  const now = ctx.now();
  const defaults = ctx.policy.token;
  const rows = registrations.map((registration) => {
    const sealed = ctx.vault.seal(registration.serial, registration.secret);
    return {
      serial: registration.serial,
      algorithm: registration.algorithm ?? defaults.algorithm,
      digits: registration.digits ?? defaults.digits,
      period: registration.period ?? defaults.period,
      t0: defaults.t0,
      sealed_secret: sealed.ciphertext,
      key_id: sealed.keyId,
      seed_fingerprint: ctx.vault.fingerprint(registration.secret),
      clock_set_at: clockSetNow ? now : null,
      clock_set_to: clockSetNow ? Math.floor(now / 1000) : null,
      created_at: now,
    };
  });
  // During a master-key rotation a stored fingerprint may be under the previous key: look for either.
  const storedFingerprints = new Map(registrations.flatMap((registration) => ctx.vault.fingerprints(registration.secret).map((print) => [print, registration.serial] as const)));
  const problems: string[] = [];
  const serialsSeen = new Map<string, number>();
  const seedsSeen = new Map<string, string>();
  for (const row of rows) {
    serialsSeen.set(row.serial, (serialsSeen.get(row.serial) ?? 0) + 1);
    const twin = seedsSeen.get(row.seed_fingerprint);
    if (twin !== undefined) problems.push(`tokens ${twin} and ${row.serial} have the same secret`);
    else seedsSeen.set(row.seed_fingerprint, row.serial);
  }
  for (const [serial, count] of serialsSeen) if (count > 1) problems.push(`serial ${serial} appears ${count} times`);
  if (problems.length > 0) throw new OperationError("conflict", problems.join("; "));

  try {
    await ctx.database.transaction(async (trx) => {
      const existing = await trx
        .selectFrom("tokens")
        .select(["serial", "seed_fingerprint"])
        .where((eb) => eb.or([eb("serial", "in", [...serialsSeen.keys()]), eb("seed_fingerprint", "in", [...storedFingerprints.keys()])]))
        .execute();
      const conflicts: string[] = [];
      for (const token of existing) {
        if (serialsSeen.has(token.serial)) conflicts.push(`token ${token.serial} is already registered`);
        const twin = token.seed_fingerprint === null ? undefined : storedFingerprints.get(token.seed_fingerprint);
        if (twin !== undefined) conflicts.push(`the secret of token ${twin} is already registered (token ${token.serial})`);
      }
      if (conflicts.length > 0) throw new OperationError("conflict", conflicts.join("; "));
      for (const row of rows) {
        await trx.insertInto("tokens").values(row).execute();
        await appendAudit(trx, actor, now, { event: "token.register", result: "ok", serial: row.serial, detail: rows.length > 1 ? { batch: rows.length } : undefined });
      }
    });
  } catch (error) {
    // a concurrent registration of the same serial or seed, caught by the primary key or the unique index
    if (isUniqueViolation(error)) throw new OperationError("conflict", "a token with this serial or secret was registered at the same time: nothing registered");
    throw error;
  }
  return Promise.all(rows.map((row) => getToken(ctx, row.serial)));
}

/** SQLite's and PostgreSQL's (23505) report of a duplicate key. */
function isUniqueViolation(error: unknown): boolean {
  const { code, message } = error as { code?: string; message?: string };
  return code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY" || /UNIQUE constraint failed/.test(message ?? "");
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
    clock: {
      setAt: row.clock_set_at === null ? null : new Date(row.clock_set_at).toISOString(),
      setTo: row.clock_set_to,
      trimPpb: row.clock_trim_ppb,
    },
  };
}

/** Ties a token to a user (created on first assignment); a user keeps the PIN across replacements. */
export async function assignToken(ctx: ValidatorContext, actor: Actor, serial: string, givenUser: string): Promise<TokenView> {
  const user = normaliseUserId(givenUser);
  const now = ctx.now();
  await refusableTransaction(ctx, async (trx) => {
    const token = await trx.selectFrom("tokens").select(["user_name", "disabled_at"]).where("serial", "=", serial).executeTakeFirst();
    if (!token) throw new OperationError("not-found", `no token ${serial}`);
    if (token.user_name !== null && token.user_name !== user) {
      throw new OperationError("conflict", `token ${serial} is assigned to another user: unassign it first`);
    }
    const refused = await openingRefusal(trx, actor, now, "token-assign", { event: "token.assign", user, serial });
    if (refused) return refused;
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

/**
 * `heldBy`: the user the caller saw holding the token (a console form rendered on their page). If it has
 * changed hands since, nothing changes (a conflict): an old form must not act on someone else's token.
 */
export interface HeldBy {
  heldBy?: string;
}

export async function unassignToken(ctx: ValidatorContext, actor: Actor, serial: string, { heldBy }: HeldBy = {}): Promise<TokenView> {
  return updateToken(ctx, actor, serial, "token.unassign", { user_name: null }, { heldBy });
}

export async function disableToken(ctx: ValidatorContext, actor: Actor, serial: string, reason: DisableReason, { heldBy }: HeldBy = {}): Promise<TokenView> {
  return updateToken(ctx, actor, serial, "token.disable", { disabled_reason: reason, disabled_at: ctx.now() }, { detail: { reason }, heldBy });
}

export async function enableToken(ctx: ValidatorContext, actor: Actor, serial: string, { heldBy }: HeldBy = {}): Promise<TokenView> {
  const token = await ctx.database.db.selectFrom("tokens").select("seed_fingerprint").where("serial", "=", serial).executeTakeFirst();
  // left without a fingerprint by the start-up backfill: it shares its seed with an older token
  if (token && token.seed_fingerprint === null) {
    throw new OperationError("conflict", `token ${serial} shares its secret with another token and stays disabled: re-provision it`);
  }
  return updateToken(ctx, actor, serial, "token.enable", { disabled_reason: null, disabled_at: null }, { opening: "token-enable", heldBy });
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
  { opening, detail, heldBy }: { opening?: AccountOpening; detail?: Record<string, unknown>; heldBy?: string } = {},
): Promise<TokenView> {
  const now = ctx.now();
  await refusableTransaction(ctx, async (trx) => {
    const token = await trx.selectFrom("tokens").select(["user_name", "disabled_at", "t0", "period", "offset_steps"]).where("serial", "=", serial).executeTakeFirst();
    if (!token) throw new OperationError("not-found", `no token ${serial}`);
    if (heldBy !== undefined && token.user_name !== heldBy) {
      throw new OperationError("conflict", `token ${serial} is no longer ${heldBy}'s (${token.user_name === null ? "it is unassigned" : `it is now ${token.user_name}'s`}): nothing was changed`);
    }
    const refused = opening && token.user_name !== null && (await openingRefusal(trx, actor, now, opening, { event, user: token.user_name, serial }));
    if (refused) return refused;
    const enabling = values.disabled_at === null && token.disabled_at !== null;
    if (enabling && token.user_name !== null) await refuseBeyondTokensPerUser(ctx, trx, token.user_name, serial);
    await trx.updateTable("tokens").set(values).where("serial", "=", serial).execute();
    const handedIn = values.user_name === null && token.user_name !== null;
    const spent = handedIn || enabling ? await spendCodesShown(trx, serial, token, now, handedIn ? ctx.policy.directWindow : -1) : null;
    let sessionsEnded = 0;
    if (token.user_name !== null) {
      // Whatever changes a user's tokens voids the challenges opened on them.
      await voidChallenges(trx, token.user_name);
      // A token taken away (lost or stolen, perhaps with the laptop that holds a session) ends the
      // holder's console sessions, even if a replacement is assigned before the session's next request.
      const takenAway = values.user_name === null || (values.disabled_at != null && token.disabled_at === null);
      if (takenAway) sessionsEnded = await endConsoleSessions(trx, token.user_name);
    }
    const details = { ...detail, ...(sessionsEnded > 0 && { sessionsEnded }), ...(spent !== null && { spentThrough: spent }) };
    await appendAudit(trx, actor, now, { event, result: "ok", user: token.user_name, serial, detail: Object.keys(details).length > 0 ? details : undefined });
  });
  return getToken(ctx, serial);
}

/**
 * A token that changes hands has the codes it showed spent, so that whoever held or found it cannot use
 * codes noted then (one, or two consecutive ones through a next-code challenge, up to the challenge
 * window back) to open the next holder's first use with a PIN of their choosing (an attacker review did):
 * - handed in (unassigned): every code up to the direct window ahead of the step it shows now (`ahead` =
 *   the direct window), as far as its learned offset tells; nobody holds it until it is assigned again,
 *   and a token left in a drawer that drifts meanwhile is not held up at its next holder's first login;
 * - found and enabled again (`ahead` = -1): every code before the one it shows now, which its holder
 *   may type at once.
 * The write is conditional (a concurrent accept is never moved back). Returns the step now last spent, or
 * null if the token had already spent it.
 */
async function spendCodesShown(
  trx: Kysely<Schema>,
  serial: string,
  token: { t0: number; period: number; offset_steps: number },
  now: number,
  ahead: number,
): Promise<number | null> {
  const spent = expectedStep({ parameters: { t0: token.t0, period: token.period }, offset: token.offset_steps }, now) + ahead;
  const { numUpdatedRows } = await trx
    .updateTable("tokens")
    .set({ last_step: spent })
    .where("serial", "=", serial)
    .where((where) => where.or([where("last_step", "is", null), where("last_step", "<", spent)]))
    .executeTakeFirst();
  return numUpdatedRows > 0n ? spent : null;
}
