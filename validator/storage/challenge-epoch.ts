import type { Kysely } from "kysely";
import type { Schema } from "./schema.js";

/**
 * Voids every open challenge of `user`: called in the transaction of each help-desk change that alters
 * what a challenge was opened on (PIN reset, token assigned, unassigned, disabled or enabled, unlock).
 */
export async function voidChallenges(trx: Kysely<Schema>, user: string): Promise<void> {
  await trx.updateTable("users").set((set) => ({ epoch: set("epoch", "+", 1) })).where("name", "=", user).execute();
}
