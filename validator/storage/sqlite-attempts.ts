import type BetterSqlite3 from "better-sqlite3";
import {
  challengeFromRow,
  challengeKey,
  ConcurrentChange,
  loadChallengesSql,
  loadUserStatesSql,
  userStateFromRows,
  userUpdateParameters,
  type AttemptStore,
  type ChallengeRow,
  type UserStateRow,
} from "./attempt-store.js";
import { auditRow, INSERT_AUDIT_ROW } from "./audit-log.js";
import type { GroupCommit } from "./group-commit.js";

/**
 * The attempt store on SQLite: statements prepared once, run synchronously inside the group commit's
 * transaction (group-commit.ts), each attempt in its own savepoint.
 */
export function sqliteAttemptStore(connection: BetterSqlite3.Database, groupCommit: GroupCommit): AttemptStore {
  // Prepared on first use: the tables exist only once the migrations have run.
  let statements: ReturnType<typeof prepare> | undefined;
  return {
    run(request, decide) {
      return groupCommit.runSync(() => {
        const prepared = (statements ??= prepare(connection));
        const { user, challengeId, actor, now } = request;
        const rows = prepared.loadUser.all(user) as (UserStateRow & { staff: number })[];
        const challenge = challengeId === null ? null : challengeFromRow(challengeId, prepared.loadChallenge.get(challengeKey(challengeId), user) as ChallengeRow | undefined);
        const { change, audit, result } = decide({ state: userStateFromRows(user, rows), challenge, staff: rows[0]?.staff === 1 });

        if (change.acceptStep) {
          const { serial, step, offset } = change.acceptStep;
          if (prepared.acceptStep.run(step, offset, now, serial, step).changes !== 1) throw new ConcurrentChange(`step ${step} of ${serial} was already accepted`);
        }
        prepared.updateUser.run({ user, now, ...userUpdateParameters(change) });
        if (change.rekeyEmergencyVerifier) prepared.rekeyEmergency.run(change.rekeyEmergencyVerifier, user);
        if (change.revokeEmergency) prepared.revokeEmergency.run(user);
        // Kept (until it expires) as answered, so a retry is recognised rather than counted as a failure.
        if (change.consumeChallenge) prepared.consumeChallenge.run(now, challengeKey(change.consumeChallenge));
        if (change.createChallenge) {
          const { id, kind, serial, step, expiresAt, epoch } = change.createChallenge;
          prepared.dropExpiredChallenges.run(user, now);
          prepared.insertChallenge.run(challengeKey(id), user, kind, serial, step, now, expiresAt, epoch);
        }
        prepared.appendAudit.run(auditRow(actor, now, audit));
        return result;
      });
    },
  };
}

function prepare(connection: BetterSqlite3.Database) {
  return {
    loadUser: connection.prepare(loadUserStatesSql("u.name = ?")),
    loadChallenge: connection.prepare(loadChallengesSql("id = ? AND user_name = ?")),
    // The replay guard: only a step above the last accepted one is written.
    acceptStep: connection.prepare(
      "UPDATE tokens SET last_step = ?, offset_steps = ?, last_used_at = ? WHERE serial = ? AND (last_step IS NULL OR last_step < ?)",
    ),
    updateUser: connection.prepare(
      `UPDATE users SET
         last_attempt_at = @now,
         failures = CASE @failures WHEN 'increment' THEN failures + 1 WHEN 'restart' THEN 1 WHEN 'reset' THEN 0 ELSE failures END,
         last_failure_at = CASE @failures WHEN 'increment' THEN @now WHEN 'restart' THEN @now WHEN 'reset' THEN NULL ELSE last_failure_at END,
         pin_verifier = coalesce(@newPinVerifier, pin_verifier),
         epoch = CASE WHEN @challengeEpoch IS NOT NULL THEN @challengeEpoch WHEN @bumpEpoch = 1 THEN epoch + 1 ELSE epoch END
       WHERE name = @user`,
    ),
    rekeyEmergency: connection.prepare("UPDATE emergency_passwords SET verifier = ? WHERE user_name = ?"),
    revokeEmergency: connection.prepare("DELETE FROM emergency_passwords WHERE user_name = ?"),
    consumeChallenge: connection.prepare("UPDATE challenges SET answered_at = ? WHERE id = ?"),
    dropExpiredChallenges: connection.prepare("DELETE FROM challenges WHERE user_name = ? AND expires_at < ?"),
    insertChallenge: connection.prepare(
      "INSERT INTO challenges (id, user_name, kind, serial, step, opened_at, expires_at, epoch) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    appendAudit: connection.prepare(INSERT_AUDIT_ROW),
  };
}
