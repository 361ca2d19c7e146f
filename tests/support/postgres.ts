import { randomBytes } from "node:crypto";
import pg from "pg";

/** The local PostgreSQL of this machine and CI (trust auth); JETON_TEST_POSTGRES_URL overrides it. */
export const postgresAdminUrl = process.env.JETON_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

async function probe(): Promise<string | null> {
  const client = new pg.Client({ connectionString: postgresAdminUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("select 1");
    return null;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const unreachable = await probe();
if (unreachable) {
  console.warn(`PostgreSQL is not reachable at ${postgresAdminUrl} (${unreachable}): the PostgreSQL runs of this file are SKIPPED.`);
}
export const postgresAvailable = unreachable === null;

/** A fresh database for one test file, dropped by the returned function. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `jeton_test_${process.pid}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: postgresAdminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(postgresAdminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: postgresAdminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/**
 * Holds a user's row (SELECT … FOR UPDATE in a transaction of another session), so the changes a test
 * starts queue behind it in a known order: `waiters(n)` resolves once n sessions wait for a lock,
 * `release()` commits and lets them go in that order. `end()` closes the session (in `finally`).
 */
export async function holdUserRow(url: string, user: string) {
  const holder = new pg.Client({ connectionString: url });
  await holder.connect();
  await holder.query("BEGIN");
  await holder.query("SELECT name FROM users WHERE name = $1 FOR UPDATE", [user]);
  return {
    async waiters(count: number): Promise<void> {
      for (let attempt = 0; attempt < 200; attempt++) {
        // (inside a transaction the statistics are a snapshot taken once: cleared before each look)
        await holder.query("SELECT pg_stat_clear_snapshot()");
        const { rows } = await holder.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND wait_event_type = 'Lock'");
        if (rows[0].n >= count) return;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error(`fewer than ${count} sessions waiting for ${user}'s row`);
    },
    release: () => holder.query("COMMIT"),
    end: () => holder.end().catch(() => undefined),
  };
}
