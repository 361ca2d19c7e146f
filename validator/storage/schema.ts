import type { Generated } from "kysely";

export interface SettingsTable {
  name: string;
  value: string;
}

/** Times are Unix milliseconds in BIGINT columns, the same in both dialects. */
export interface UsersTable {
  name: string;
  pin_verifier: string | null;
  failures: Generated<number>;
  last_failure_at: number | null;
  last_attempt_at: number | null;
  created_at: number;
  /** Bumped by every change that voids the user's open challenges (see challenge-epoch.ts). */
  epoch: Generated<number>;
}

export interface TokensTable {
  serial: string;
  user_name: string | null;
  algorithm: string;
  digits: number;
  period: number;
  t0: number;
  sealed_secret: string;
  key_id: string;
  /** keyed fingerprint of the seed (SeedVault.fingerprint), unique; null only until the start-up backfill */
  seed_fingerprint: string | null;
  /** the last set-time counter the token confirmed applying (the firmware's set_time_counter) */
  set_time_counter: Generated<number>;
  /** when the token's clock was last set (registration by the provisioner, or a confirmed correction); null: unknown */
  clock_set_at: number | null;
  /** the Unix seconds it was set to then */
  clock_set_to: number | null;
  /** the trim the token applies, in ppb (positive: its crystal runs fast and it slows its clock) */
  clock_trim_ppb: Generated<number>;
  offset_steps: Generated<number>;
  last_step: number | null;
  disabled_reason: string | null;
  disabled_at: number | null;
  last_used_at: number | null;
  created_at: number;
}

export interface EmergencyPasswordsTable {
  user_name: string;
  verifier: string;
  expires_at: number;
  issued_at: number;
  issued_by: string;
}

export interface ChallengesTable {
  /** SHA-256 (hex) of the challenge id: a database reader cannot answer a challenge. */
  id: string;
  user_name: string;
  kind: string;
  serial: string | null;
  step: number | null;
  expires_at: number;
  /** The user's epoch when the challenge was opened: a different epoch voids it. */
  epoch: number;
  opened_at: number;
  answered_at: number | null;
}

export interface ApiKeysTable {
  id: string;
  role: string;
  secret_hash: string;
  label: string | null;
  created_at: number;
  revoked_at: number | null;
  expires_at: number | null;
  /** Recorded at most once a minute per key and validator instance. */
  last_used_at: number | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: number;
  actor: string;
  role: string;
  source: string;
  event: string;
  result: string;
  user_name: string | null;
  serial: string | null;
  detail: string | null;
}

/** A RADIUS client (NAS): its shared secret sealed under the master key like a token seed. */
export interface RadiusClientsTable {
  name: string;
  /** An IP address or CIDR block. */
  address: string;
  sealed_secret: string;
  key_id: string;
  /** 1 or 0 (SQLite has no boolean). */
  require_message_authenticator: number;
  language: string;
  /** JSON object of prompt overrides, or null. */
  prompts: string | null;
  created_at: number;
}

/** An Access-Challenge's State, stored only as its SHA-256, bound to a user and a client. */
export interface RadiusStatesTable {
  state_hash: string;
  client_name: string;
  user_name: string;
  expires_at: number;
  /** The challenge id, sealed under a key derived from the State itself (operations/radius-states.ts). */
  sealed_challenge: string;
}

/** Who may sign in to the support console, and with which role (helpdesk ⊇ support, auditor reads). */
export interface StaffTable {
  user_name: string;
  role: string;
  added_at: number;
  added_by: string;
}

export interface ConsoleSessionsTable {
  id_hash: string;
  staff_user: string;
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
  /** When the staff member last confirmed with a fresh passcode (step-up). */
  stepped_up_at: number | null;
}

export interface Schema {
  settings: SettingsTable;
  users: UsersTable;
  tokens: TokensTable;
  emergency_passwords: EmergencyPasswordsTable;
  challenges: ChallengesTable;
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
  radius_clients: RadiusClientsTable;
  radius_states: RadiusStatesTable;
  staff: StaffTable;
  console_sessions: ConsoleSessionsTable;
}
