import type pg from "pg";
import {
  challengeFromRow,
  challengeKey,
  ConcurrentChange,
  userStateFromRows,
  loadChallengeSql,
  loadUserStateSql,
  userUpdateParameters,
  type AttemptRequest,
  type AttemptStore,
  type AttemptWrite,
  type ChallengeRow,
  type LoadedAttempt,
  type UserStateRow,
} from "./attempt-store.js";
import { auditRow } from "./audit-log.js";
import type { StateChange } from "../policy/outcome.js";

/** Runs `work` again on a fresh connection while its connection turns out closed (database.ts). */
export type RetryOnLostConnection = <T>(work: () => Promise<T>) => Promise<T>;

/**
 * The attempt store on PostgreSQL: two round trips per attempt, on a pool in pipeline mode (queries are
 * sent without waiting for the previous one's answer) with statements prepared once per connection.
 *
 * 1. BEGIN, lock the user's row, load the user's state, load the challenge: sent together.
 * 2. One statement writing the whole change and its audit entry, then COMMIT: sent together.
 *
 * The user's row is locked first, so attempts for one user are decided one after the other across all
 * validator instances; the load is a statement of its own after the lock, so under READ COMMITTED it
 * sees what the previous holder committed (a statement that waited for the lock would see the tokens
 * and emergency password as they were before).
 */
export function postgresAttemptStore(pool: pg.Pool, retried: RetryOnLostConnection): AttemptStore {
  return {
    run: (request, decide) =>
      retried(async () => {
        const client = await pool.connect();
        try {
          return await attempt(client, request, decide);
        } finally {
          // Back to the pool only outside a transaction. One left open (a statement that failed while
          // loading, a `decide` that threw, a lost COMMIT) is closed instead, which rolls it back and
          // frees the user's lock; its pipeline holds no answers still to come (every query was awaited).
          client.release(client.getTransactionStatus() === "I" ? undefined : true);
        }
      }),
  };
}

async function attempt<T>(client: pg.PoolClient, request: AttemptRequest, decide: (loaded: LoadedAttempt) => AttemptWrite<T>): Promise<T> {
  const { user, challengeId, actor, now } = request;
  const [, , loaded, challengeRows] = await roundTrip(client, () => [
    client.query("BEGIN"),
    client.query({ name: "jeton_attempt_lock", text: LOCK_USER, values: [user] }),
    client.query<UserStateRow & { staff: boolean }>({ name: "jeton_attempt_load", text: LOAD_USER, values: [user] }),
    ...(challengeId === null ? [] : [client.query<ChallengeRow>({ name: "jeton_attempt_challenge", text: LOAD_CHALLENGE, values: [challengeKey(challengeId), user] })]),
  ]);
  const { rows } = loaded;
  const challenge = challengeId === null ? null : challengeFromRow(challengeId, challengeRows?.rows[0]);
  const { change, audit, result } = decide({ state: userStateFromRows(user, rows), challenge, staff: rows[0]?.staff === true });

  const [written] = await roundTrip(client, () => [
    client.query<{ written: boolean }>({ name: "jeton_attempt_write", text: WRITE, values: writeParameters(request, change, auditRow(actor, now, audit)) }),
    client.query("COMMIT"),
  ]);
  if (!written.rows[0]!.written) {
    const { serial, step } = change.acceptStep!;
    throw new ConcurrentChange(`step ${step} of ${serial} was already accepted`);
  }
  return result;
}

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

const LOCK_USER = "SELECT name FROM users WHERE name = $1 FOR UPDATE";

const LOAD_USER = loadUserStateSql("$1");

const LOAD_CHALLENGE = loadChallengeSql("$1", "$2");

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
