import type { Kysely } from "kysely";
import type { Schema } from "./schema.js";

/**
 * Locks `user`'s row for the rest of the transaction (a write that changes nothing): on PostgreSQL what
 * is read after it sees every change of the user committed before, and changes that lock the row too
 * (a PIN reset, a token change, a staff member added) wait for this transaction. On SQLite the write
 * takes the database's write lock, with the same effect.
 */
export async function lockUserRow(trx: Kysely<Schema>, user: string): Promise<void> {
  await trx.updateTable("users").set((update) => ({ epoch: update.ref("epoch") })).where("name", "=", user).execute();
}
