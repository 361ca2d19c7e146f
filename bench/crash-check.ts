import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { startServe, type ServerProcess } from "../tests/support/cli.js";
import type { DatabaseLocation } from "../validator/storage/database.js";
import { benchUser, PasscodeSource, seedUsers } from "./seed.js";
import { createBenchWorkspace } from "./workspace.js";

export interface CrashCheckOptions {
  dialect: "sqlite" | "postgres";
  users: number;
  /** kill -9 once the client has seen this many accepts. */
  killAfterAccepts: number;
  concurrency: number;
  /** Share of attempts that are wrong passcodes. */
  failureShare: number;
}

export interface CrashCheckReport {
  dialect: string;
  requestsSent: number;
  acceptsSeenBeforeKill: number;
  inFlightAtKill: number;
  auditAccepts: number;
  replayedAfterRestart: number;
  acceptedAgain: number;
  tokensChecked: number;
  tokenStepMismatches: string[];
  usersChecked: number;
  failureCountMismatches: string[];
  acceptsMissingFromAudit: number;
  integrity: string;
}

interface Attempt {
  user: string;
  passcode: string;
}

/**
 * Drives validations, kills the validator with SIGKILL mid-load, restarts it on the same database and
 * checks: no (token, step) accepted before the crash is accepted again; each token's last accepted step
 * and each user's failure count agree with the audit log; the database passes its integrity check.
 */
export async function runCrashCheck(options: CrashCheckOptions): Promise<CrashCheckReport> {
  const workspace = await createBenchWorkspace(options.dialect);
  const { location, environment } = workspace;
  let server: ServerProcess | undefined;
  try {
    const key = await seedUsers(location, workspace.masterKey, options.users);
    const validate = (url: string, attempt: Attempt) =>
      fetch(`${url}/v1/validate`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify(attempt),
      }).then(async (response) => ((await response.json()) as { result: string }).result);

    server = await startServe(environment);
    const passcodes = new PasscodeSource();
    const accepted: Attempt[] = [];
    let sent = 0;
    let inFlight = 0;
    let inFlightAtKill = 0;
    let killed = false;
    const crashed = server;
    const usersPerLane = Math.floor(options.users / options.concurrency);
    if (usersPerLane < 1) throw new Error("need at least as many users as concurrent requests");
    const worker = async (lane: number) => {
      // Each lane owns the users ≡ lane (mod concurrency): one token is never in flight twice.
      for (let round = 0; !killed; round++) {
        const index = lane + options.concurrency * (round % usersPerLane);
        const attempt = { user: benchUser(index), passcode: Math.random() < options.failureShare ? passcodes.wrong() : passcodes.valid(index) };
        sent++;
        inFlight++;
        const result = await validate(crashed.url, attempt).catch(() => "lost");
        inFlight--;
        if (result === "accept" && !killed) {
          accepted.push(attempt);
          if (accepted.length >= options.killAfterAccepts) {
            inFlightAtKill = inFlight;
            killed = true;
            crashed.child.kill("SIGKILL");
          }
        }
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, (_, lane) => worker(lane)));
    await crashed.stop();

    server = await startServe(environment);
    const integrity = await integrityCheck(location);
    const consistency = await auditConsistency(location, options.users);
    let acceptedAgain = 0;
    for (const attempt of accepted) if ((await validate(server.url, attempt)) === "accept") acceptedAgain++;
    return {
      dialect: options.dialect,
      requestsSent: sent,
      acceptsSeenBeforeKill: accepted.length,
      inFlightAtKill,
      replayedAfterRestart: accepted.length,
      acceptedAgain,
      integrity,
      ...consistency,
      acceptsMissingFromAudit: Math.max(0, accepted.length - consistency.auditAccepts),
    };
  } finally {
    await server?.stop();
    await workspace.remove();
  }
}

interface AuditRow {
  event: string;
  result: string;
  user_name: string | null;
  serial: string | null;
  detail: string | null;
}

/** Recomputes each token's last step and each user's failure count from the audit log alone. */
async function auditConsistency(location: DatabaseLocation, users: number) {
  const { audit, tokens, userRows } = await readAll(location);
  const lastStep = new Map<string, number>();
  const failures = new Map<string, number>();
  let auditAccepts = 0;
  for (const entry of audit) {
    const detail = entry.detail ? (JSON.parse(entry.detail) as { reason?: string; step?: number; via?: string; spentThrough?: number }) : {};
    // A token handed in or enabled again has the codes it showed spent (operations/tokens.ts).
    if (entry.serial && detail.spentThrough !== undefined) lastStep.set(entry.serial, Math.max(lastStep.get(entry.serial) ?? -1, detail.spentThrough));
    if (entry.event !== "validate" && entry.event !== "challenge-response" && entry.event !== "user.unlock") continue;
    const user = entry.user_name!;
    // Only a success that proved the PIN resets the count: choosing a first PIN (a new-pin answer, no step) does not.
    const provedPin = entry.result === "accept" && (detail.via === "emergency" || detail.step !== undefined);
    if (provedPin || entry.event === "user.unlock") failures.set(user, 0);
    if (entry.result === "accept" && entry.serial && detail.step !== undefined) {
      auditAccepts++;
      lastStep.set(entry.serial, Math.max(lastStep.get(entry.serial) ?? -1, detail.step));
    }
    if (entry.result === "reject" && ["bad-passcode", "wrong-next-code", "challenge-unknown"].includes(detail.reason ?? "")) {
      failures.set(user, (failures.get(user) ?? 0) + 1);
    }
  }
  const tokenStepMismatches = tokens
    .filter((token) => (token.last_step ?? -1) !== (lastStep.get(token.serial) ?? -1))
    .map((token) => `${token.serial}: table ${token.last_step}, audit ${lastStep.get(token.serial) ?? null}`);
  const failureCountMismatches = userRows
    .filter((user) => user.failures !== (failures.get(user.name) ?? 0))
    .map((user) => `${user.name}: table ${user.failures}, audit ${failures.get(user.name) ?? 0}`);
  return { auditAccepts, tokensChecked: tokens.length, tokenStepMismatches, usersChecked: Math.min(users, userRows.length), failureCountMismatches };
}

async function readAll(location: DatabaseLocation) {
  const queries = {
    audit: "SELECT event, result, user_name, serial, detail FROM audit_log ORDER BY id",
    tokens: "SELECT serial, last_step FROM tokens ORDER BY serial",
    userRows: "SELECT name, failures FROM users ORDER BY name",
  };
  if (location.kind === "sqlite") {
    const db = new BetterSqlite3(location.file, { readonly: true });
    try {
      return {
        audit: db.prepare(queries.audit).all() as AuditRow[],
        tokens: db.prepare(queries.tokens).all() as { serial: string; last_step: number | null }[],
        userRows: db.prepare(queries.userRows).all() as { name: string; failures: number }[],
      };
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: location.url });
  await client.connect();
  try {
    return {
      audit: (await client.query<AuditRow>(queries.audit)).rows,
      tokens: (await client.query<{ serial: string; last_step: string | null }>(queries.tokens)).rows.map((row) => ({
        serial: row.serial,
        last_step: row.last_step === null ? null : Number(row.last_step),
      })),
      userRows: (await client.query<{ name: string; failures: number }>(queries.userRows)).rows,
    };
  } finally {
    await client.end();
  }
}

/** SQLite's PRAGMA integrity_check; on PostgreSQL, amcheck's B-tree verification of every index. */
async function integrityCheck(location: DatabaseLocation): Promise<string> {
  if (location.kind === "sqlite") {
    const db = new BetterSqlite3(location.file, { readonly: true });
    try {
      return (db.pragma("integrity_check") as { integrity_check: string }[]).map((row) => row.integrity_check).join("; ");
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: location.url });
  await client.connect();
  try {
    await client.query("CREATE EXTENSION IF NOT EXISTS amcheck");
    const indexes = await client.query<{ name: string }>(
      "SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'",
    );
    for (const index of indexes.rows) await client.query("SELECT bt_index_check($1::regclass, true)", [index.name]);
    return `ok (${indexes.rows.length} indexes verified with amcheck)`;
  } finally {
    await client.end();
  }
}
