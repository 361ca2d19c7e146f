import type { Metrics } from "./observability/metrics.js";
import type { VerificationPolicy } from "./policy/policy.js";
import type { SeedVault } from "./secrets/seed-vault.js";
import type { KeyedVerifiers } from "./secrets/verifiers.js";
import type { Database } from "./storage/database.js";

/** What every operation needs: storage, keys, policy, the clock (injectable for tests) and the counters. */
export interface ValidatorContext {
  database: Database;
  vault: SeedVault;
  verifiers: KeyedVerifiers;
  policy: VerificationPolicy;
  /** What the audit log records instead of an identifier that names nobody (secrets/identifier-fingerprint.ts). */
  unknownIdentifier(identifier: string): string;
  /** Unix milliseconds. */
  now(): number;
  metrics: Metrics;
}
