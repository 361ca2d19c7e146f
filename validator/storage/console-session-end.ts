import type { Kysely } from "kysely";
import type { Schema } from "./schema.js";

/**
 * Ends every console session of `user`, in the transaction of a change that takes away what a session
 * was opened with (their PIN reset, a token of theirs disabled or unassigned, their staff role removed):
 * a session cannot tell which token opened it, and one held by whoever took that token must not live on.
 * Returns how many ended.
 */
export async function endConsoleSessions(trx: Kysely<Schema>, user: string): Promise<number> {
  const ended = await trx.deleteFrom("console_sessions").where("staff_user", "=", user).executeTakeFirst();
  return Number(ended.numDeletedRows);
}
