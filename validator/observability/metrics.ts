// What the validator counts, in Prometheus' text format (GET /metrics). Every front door records
// its validations here with the same names and labels (`http` today, `radius` and `console` next), so
// one dashboard covers them all. Each validator has its own registry: several can run in one process
// (tests) without sharing counters.
import { collectDefaultMetrics, Counter, Histogram, Registry } from "prom-client";
import type { Decision, RejectReason } from "../policy/outcome.js";
import type { StorageEvents } from "../storage/database.js";

/** Where an attempt came in. */
export type FrontDoor = "http" | "radius" | "console";

export class Metrics {
  readonly registry = new Registry();

  private readonly validations = new Counter({
    name: "jeton_validations_total",
    help: "Validation decisions by front door, result (accept, reject, challenge) and reject reason",
    labelNames: ["front_door", "result", "reason"] as const,
    registers: [this.registry],
  });

  private readonly validationSeconds = new Histogram({
    name: "jeton_validation_duration_seconds",
    help: "Time to decide a validation, from the parsed request to the decision (storage included)",
    labelNames: ["front_door"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  private readonly challenges = new Counter({
    name: "jeton_challenges_opened_total",
    help: "Challenges opened, by kind (new-pin, next-code)",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });

  private readonly locks = new Counter({
    name: "jeton_users_locked_total",
    help: "Users locked by consecutive failures (until a help-desk unlock)",
    registers: [this.registry],
  });

  private readonly transactionRetries = new Counter({
    name: "jeton_db_transaction_retries_total",
    help: "Transactions retried on a fresh connection after the database closed one (PostgreSQL)",
    registers: [this.registry],
  });

  private readonly transactionErrors = new Counter({
    name: "jeton_db_transaction_errors_total",
    help: "Transactions that failed and were rolled back (including replay races)",
    registers: [this.registry],
  });

  private readonly radiusDrops = new Counter({
    name: "jeton_radius_dropped_total",
    help: "RADIUS datagrams left unanswered, by reason (unknown client, malformed, bad Message-Authenticator…)",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });

  private readonly radiusDuplicates = new Counter({
    name: "jeton_radius_duplicates_answered_total",
    help: "RADIUS retransmissions answered from the duplicate cache (RFC 5080), not decided again",
    registers: [this.registry],
  });

  private readonly batchSizes = new Histogram({
    name: "jeton_db_group_commit_batch_size",
    help: "Attempts committed together by one SQLite group commit or one PostgreSQL attempt batch",
    buckets: [1, 2, 4, 8, 16, 32, 64],
    registers: [this.registry],
  });

  /** What storage reports, counted here. */
  readonly storageEvents: StorageEvents = {
    transactionRetried: () => this.transactionRetries.inc(),
    transactionFailed: () => this.transactionErrors.inc(),
    groupCommitted: (size) => this.batchSizes.observe(size),
  };

  /** One decided attempt: counted by result and reason, timed, and its challenge counted by kind. */
  recordValidation(frontDoor: FrontDoor, decision: Decision, seconds: number): void {
    this.validations.inc({ front_door: frontDoor, result: decision.result, reason: decision.result === "reject" ? metricReason(decision.reason) : "" });
    this.validationSeconds.observe({ front_door: frontDoor }, seconds);
    if (decision.result === "challenge") this.challenges.inc({ kind: decision.kind });
  }

  /** A reject decided before any validation, by the front door itself (a RADIUS CHAP or EAP request). */
  recordRefusal(frontDoor: FrontDoor, reason: string): void {
    this.validations.inc({ front_door: frontDoor, result: "reject", reason });
  }

  radiusDropped(reason: string): void {
    this.radiusDrops.inc({ reason });
  }

  radiusDuplicateAnswered(): void {
    this.radiusDuplicates.inc();
  }

  userLocked(): void {
    this.locks.inc();
  }

  /** CPU, memory, event loop, file descriptors of this process (once, for the serving process). */
  collectProcessMetrics(): void {
    collectDefaultMetrics({ register: this.registry });
  }

  /** The exposition text and its content type. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}

/**
 * The reason a metric shows: unknown user, locked, throttled, wrong PIN or code, and an unknown challenge
 * id (which anyone may send with any identifier) are one "credentials" reason, as they are one generic
 * reject for the caller. Otherwise whoever can read the metrics (a monitoring system's key) and type at
 * the portal would learn, from which counter moved, whether an identifier exists and whether it is
 * locked. The other challenge reasons need a real challenge id. The audit log and the server's own log
 * keep the reason. (`jeton_users_locked_total` moves for real users only, after a lock anyone can see.)
 */
const credentialReasons: ReadonlySet<RejectReason> = new Set(["unknown-user", "locked", "throttled", "bad-passcode", "challenge-unknown"]);

export function metricReason(reason: RejectReason): string {
  return credentialReasons.has(reason) ? "credentials" : reason;
}
