import type pg from "pg";
import {
  challengeFromRow,
  challengeKey,
  ConcurrentChange,
  userStateFromRows,
  loadChallengesSql,
  loadUserStatesSql,
  userUpdateParameters,
  type AttemptRequest,
  type AttemptStore,
  type AttemptWrite,
  type ChallengeRow,
  type LoadedAttempt,
  type UserStateRow,
} from "./attempt-store.js";
import { AttemptBatcher } from "./attempt-batcher.js";
import { auditRow } from "./audit-log.js";
import { connectionLost } from "./connection-lost.js";
import type { StateChange } from "../policy/outcome.js";

/** Runs `work` again on a fresh connection while its connection turns out closed (database.ts). */
export type RetryOnLostConnection = <T>(work: () => Promise<T>) => Promise<T>;

/**
 * Batches in flight at once per instance: one decided here while the other is in the database. Measured
 * with two instances on one PostgreSQL (bench:validate): 1 in flight 2 842/s, 2 3 934/s, 4 2 950/s,
 * 8 3 106/s; more in flight makes smaller batches, and each costs its round trips and its commit.
 */
export const MAX_BATCHES_IN_FLIGHT = 2;
const MAX_BATCH = 64;

interface PendingAttempt {
  user: string;
  request: AttemptRequest;
  decide: (loaded: LoadedAttempt) => AttemptWrite<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * The attempt store on PostgreSQL: attempts that arrive together share a transaction of two round trips
 * (attempt-batcher.ts), on a pool in pipeline mode (queries are sent without waiting for the previous
 * one's answer) with statements prepared once per connection.
 *
 * 1. BEGIN, lock the batch's users' rows, load their states, load the challenges answered: sent together.
 * 2. For each attempt one statement writing its whole change and its audit entry, then COMMIT: sent together.
 *
 * The users' rows are locked first, in one order (by name) in every instance, so batches that share a
 * user cannot deadlock and attempts for one user are decided one after the other across all validator
 * instances; the load is a statement of its own after the lock, so under READ COMMITTED it sees what the
 * previous holder committed (a statement that waited for the lock would see the tokens and emergency
 * password as they were before). An attempt is answered only once its batch has committed.
 */
export function postgresAttemptStore(pool: pg.Pool, retried: RetryOnLostConnection, committed: (size: number) => void = () => undefined): AttemptStore {
  const runBatch = async (batch: PendingAttempt[]): Promise<void> => {
    let outcomes: Outcome[];
    try {
      outcomes = await retried(() => onConnection(pool, (client) => attemptBatch(client, batch)));
    } catch (error) {
      // A commit that may have happened is never run again: its failures would count twice.
      if (batch.length === 1 || error instanceof CommitOutcomeUnknown) return batch.forEach((pending) => pending.reject(error));
      // Nothing of the batch was written. One attempt's failing statement (or a deadlock with another
      // transaction) should not fail the others: each runs again alone, and only its own error is its own.
      await Promise.all(batch.map((pending) => runBatch([pending])));
      return;
    }
    committed(batch.length);
    outcomes.forEach((outcome, index) => (outcome.ok ? batch[index]!.resolve(outcome.value) : batch[index]!.reject(outcome.error)));
  };
  const batcher = new AttemptBatcher(runBatch, MAX_BATCHES_IN_FLIGHT, MAX_BATCH);
  return {
    run: <T>(request: AttemptRequest, decide: (loaded: LoadedAttempt) => AttemptWrite<T>) =>
      new Promise<T>((resolve, reject) => batcher.add({ user: request.user, request, decide, resolve: resolve as (value: unknown) => void, reject })),
  };
}

async function onConnection<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    return await work(client);
  } finally {
    // Back to the pool only outside a transaction. One left open (a statement that failed while
    // loading, a lost COMMIT) is closed instead, which rolls it back and frees the users' locks; its
    // pipeline holds no answers still to come (every query was awaited).
    client.release(client.getTransactionStatus() === "I" ? undefined : true);
  }
}

/** One transaction for the batch; each attempt's outcome, or a throw when nothing was committed. */
async function attemptBatch(client: pg.PoolClient, batch: PendingAttempt[]): Promise<Outcome[]> {
  const users = batch.map((pending) => pending.user);
  const challengeKeys = batch.flatMap(({ request }) => (request.challengeId === null ? [] : [challengeKey(request.challengeId)]));
  const [, , loaded, challengeRows] = await roundTrip(client, () => [
    client.query("BEGIN"),
    client.query({ name: "jeton_attempt_lock", text: LOCK_USERS, values: [users] }),
    client.query<UserStateRow & { staff: boolean }>({ name: "jeton_attempt_load", text: LOAD_USERS, values: [users] }),
    ...(challengeKeys.length === 0 ? [] : [client.query<ChallengeRow>({ name: "jeton_attempt_challenges", text: LOAD_CHALLENGES, values: [challengeKeys] })]),
  ]);
  const rowsOf = new Map<string, (UserStateRow & { staff: boolean })[]>();
  for (const row of loaded.rows) {
    const rows = rowsOf.get(row.user_name);
    if (rows) rows.push(row);
    else rowsOf.set(row.user_name, [row]);
  }
  const challenges = new Map(challengeRows?.rows.map((row) => [row.id, row]));

  const decided = batch.map(({ request, decide }) => {
    const { user, challengeId } = request;
    const rows = rowsOf.get(user) ?? [];
    const challengeRow = challengeId === null ? undefined : challenges.get(challengeKey(challengeId));
    try {
      const loadedAttempt = {
        state: userStateFromRows(user, rows),
        challenge: challengeId === null ? null : challengeFromRow(challengeId, challengeRow?.user_name === user ? challengeRow : undefined),
        staff: rows[0]?.staff === true,
      };
      return { ok: true as const, request, write: decide(loadedAttempt) };
    } catch (error) {
      // Rules that throw write nothing of their attempt; the batch's others go on.
      return { ok: false as const, error };
    }
  });

  const writes = decided.filter((attempt) => attempt.ok);
  const answers = await commitRoundTrip(client, () => [
    ...writes.map(({ request, write }) =>
      client.query<{ written: boolean }>({ name: "jeton_attempt_write", text: WRITE, values: writeParameters(request, write.change, auditRow(request.actor, request.now, write.audit)) }),
    ),
    client.query("COMMIT"),
  ]);
  const written = new Map(writes.map((attempt, index) => [attempt, answers[index]!.rows[0]!.written]));
  return decided.map((attempt): Outcome => {
    if (!attempt.ok) return attempt;
    if (written.get(attempt)) return { ok: true, value: attempt.write.result };
    const { serial, step } = attempt.write.change.acceptStep!;
    return { ok: false, error: new ConcurrentChange(`step ${step} of ${serial} was already accepted`) };
  });
}

/**
 * The last round trip, which carries the COMMIT. When the server answers with an error, the transaction
 * is rolled back and nothing was written. When the connection is lost instead, the COMMIT may have been
 * carried out: that is not a lost connection to retry on (database.ts) but an outcome nobody knows.
 */
async function commitRoundTrip<T extends Promise<pg.QueryResult>[]>(client: pg.PoolClient, send: () => [...T]) {
  try {
    return await roundTrip(client, send);
  } catch (error) {
    if (connectionLost(error)) throw new CommitOutcomeUnknown("the database connection was lost during a commit, whose outcome is not known", { cause: error });
    throw error;
  }
}

export class CommitOutcomeUnknown extends Error {}

/**
 * Sends the queries in one write and waits for every answer: one round trip. (The client sends each
 * query as it is made; corking the socket around them keeps them in one packet.) Throws the first
 * failure, after all have answered, so the caller sees the connection's state at the end of the batch:
 * a failed statement aborts the transaction, and the COMMIT sent behind it answers as a ROLLBACK.
 */
async function roundTrip<T extends Promise<pg.QueryResult>[]>(client: pg.PoolClient, send: () => [...T]): Promise<{ [K in keyof T]: Awaited<T[K]> }> {
  const { stream } = client.connection;
  stream.cork();
  let queries: T;
  try {
    queries = send();
  } finally {
    stream.uncork();
  }
  const answers = await Promise.allSettled(queries);
  const failed = answers.find((answer) => answer.status === "rejected");
  if (failed) throw failed.reason;
  return answers.map((answer) => (answer as PromiseFulfilledResult<pg.QueryResult>).value) as { [K in keyof T]: Awaited<T[K]> };
}

/** Sorted before locking (PostgreSQL locks the rows as they come out of the sort). */
const LOCK_USERS = "SELECT name FROM users WHERE name = ANY($1::text[]) ORDER BY name FOR UPDATE";

/**
 * One user at a time (LATERAL): PostgreSQL then reads each user's tokens by index whatever its
 * statistics say. A join over the whole batch is planned from them, and on a freshly filled database
 * (before autovacuum's first ANALYZE) it read every token of the table for each batch.
 */
const LOAD_USERS = `SELECT loaded.* FROM unnest($1::text[]) AS batch(name), LATERAL (${loadUserStatesSql("u.name = batch.name")}) AS loaded
  ORDER BY loaded.user_name, loaded.serial`;

const LOAD_CHALLENGES = loadChallengesSql("id = ANY($1::text[])");

/**
 * The whole change in one statement, its optional parts switched off by null parameters. The replay
 * guard comes first: when a step is to be accepted and the token's last step is no longer below it, no
 * other part writes anything (each is conditioned on `guard.ok`, computed from the guarded update's
 * RETURNING, since all parts see the same snapshot and would not see each other's writes) and the
 * statement answers `written = false`. The users update runs for rejects too, so a locked user's attempt
 * costs what a wrong one does (for an unknown user it matches no row).
 *
 * Where two parts could touch one row, one is made to stand aside (a row modified twice in one
 * statement keeps an unpredictable one of the changes): a revoked emergency password is not re-keyed.
 * A consumed challenge is never an expired one (the rules consume only open challenges here), so the
 * expired-challenge sweep and the consume update touch different rows.
 */
const WRITE = `WITH accepted AS (
    UPDATE tokens SET last_step = $4::bigint, offset_steps = $5::integer, last_used_at = $1::bigint
     WHERE $3::text IS NOT NULL AND serial = $3::text AND (last_step IS NULL OR last_step < $4::bigint)
    RETURNING serial
  ), guard AS (
    SELECT $3::text IS NULL OR EXISTS (SELECT 1 FROM accepted) AS ok
  ), user_updated AS (
    UPDATE users SET
      last_attempt_at = $1::bigint,
      failures = CASE $6::text WHEN 'increment' THEN failures + 1 WHEN 'restart' THEN 1 WHEN 'reset' THEN 0 ELSE failures END,
      last_failure_at = CASE $6::text WHEN 'increment' THEN $1::bigint WHEN 'restart' THEN $1::bigint WHEN 'reset' THEN NULL ELSE last_failure_at END,
      pin_verifier = coalesce($7::text, pin_verifier),
      epoch = CASE WHEN $9::bigint IS NOT NULL THEN $9::bigint WHEN $8::integer = 1 THEN epoch + 1 ELSE epoch END
     WHERE name = $2::text AND (SELECT ok FROM guard)
  ), emergency_rekeyed AS (
    UPDATE emergency_passwords SET verifier = $10::text
     WHERE $10::text IS NOT NULL AND NOT $11::boolean AND user_name = $2::text AND (SELECT ok FROM guard)
  ), emergency_revoked AS (
    DELETE FROM emergency_passwords WHERE $11::boolean AND user_name = $2::text AND (SELECT ok FROM guard)
  ), challenge_consumed AS (
    UPDATE challenges SET answered_at = $1::bigint WHERE $12::text IS NOT NULL AND id = $12::text AND (SELECT ok FROM guard)
  ), challenges_expired AS (
    DELETE FROM challenges WHERE $13::text IS NOT NULL AND user_name = $2::text AND expires_at < $1::bigint AND (SELECT ok FROM guard)
  ), challenge_created AS (
    INSERT INTO challenges (id, user_name, kind, serial, step, opened_at, expires_at, epoch)
    SELECT $13::text, $2::text, $14::text, $15::text, $16::bigint, $1::bigint, $17::bigint, $9::bigint
     WHERE $13::text IS NOT NULL AND (SELECT ok FROM guard)
  ), audited AS (
    INSERT INTO audit_log (at, actor, role, source, event, result, user_name, serial, detail)
    SELECT $1::bigint, $18::text, $19::text, $20::text, $21::text, $22::text, $23::text, $24::text, $25::text
     WHERE (SELECT ok FROM guard)
  )
  SELECT ok AS written FROM guard`;

/** WRITE's parameters, in the order of their numbers. */
function writeParameters({ user, now }: AttemptRequest, change: StateChange, audit: ReturnType<typeof auditRow>): unknown[] {
  const { failures, newPinVerifier, bumpEpoch, challengeEpoch } = userUpdateParameters(change);
  const created = change.createChallenge;
  return [
    now,
    user,
    change.acceptStep?.serial ?? null,
    change.acceptStep?.step ?? null,
    change.acceptStep?.offset ?? null,
    failures,
    newPinVerifier,
    bumpEpoch,
    challengeEpoch,
    change.rekeyEmergencyVerifier ?? null,
    change.revokeEmergency === true,
    change.consumeChallenge === undefined ? null : challengeKey(change.consumeChallenge),
    created ? challengeKey(created.id) : null,
    created?.kind ?? null,
    created?.serial ?? null,
    created?.step ?? null,
    created?.expiresAt ?? null,
    audit.actor,
    audit.role,
    audit.source,
    audit.event,
    audit.result,
    audit.user_name,
    audit.serial,
    audit.detail,
  ];
}
