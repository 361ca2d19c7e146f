// An emergency password never outlives the PIN reset that revokes it, on PostgreSQL too (an attacker
// review, 2026-12-03: the issue read the PIN before locking the user's row, so a reset committed meanwhile
// left a password for a user without a PIN).
//
// The two real operations are ordered with a third connection that holds the user's row lock: the reset
// queues on it first, the issue second; the holder then commits.
import { describe, expect, it } from "vitest";
import { issueEmergencyPassword } from "../../../validator/operations/emergency-passwords.js";
import { getUser, resetPin } from "../../../validator/operations/users.js";
import type { Actor } from "../../../validator/storage/audit-log.js";
import { holdUserRow, postgresAvailable } from "../../support/postgres.js";
import { startValidator, testDatabase } from "../../support/test-validator.js";

const support: Actor = { id: "key:review", role: "support", source: "test" };

describe.runIf(postgresAvailable)("emergency password and PIN reset on PostgreSQL", () => {
  it("a PIN reset committed while an emergency password is being issued leaves no emergency password", async () => {
    const database = await testDatabase("postgres");
    const v = await startValidator(database.location);
    let held: Awaited<ReturnType<typeof holdUserRow>> | undefined;
    try {
      expect((await v.request("POST", "/v1/tokens", { serial: "JT00000001", secret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" })).status).toBe(201);
      expect((await v.request("POST", "/v1/tokens/JT00000001/assign", { user: "jdupont" })).status).toBe(200);
      await v.ctx.database.db.updateTable("users").set({ pin_verifier: v.ctx.verifiers.pinVerifier("jdupont", "482913") }).where("name", "=", "jdupont").execute();
      expect((await getUser(v.ctx, "jdupont")).pinSet).toBe(true);

      held = await holdUserRow((database.location as { url: string }).url, "jdupont");
      const reset = resetPin(v.ctx, support, "jdupont");
      await held.waiters(1);
      const issue = issueEmergencyPassword(v.ctx, support, "jdupont").then(
        (issued) => ({ issued }),
        (error: Error) => ({ error }),
      );
      await held.waiters(2);
      await held.release();
      await reset;
      const outcome = await issue;

      const after = await getUser(v.ctx, "jdupont");
      expect(after.pinSet).toBe(false);
      // The issue, serialised after the reset, is refused (409: no PIN), and no emergency password is left.
      expect("error" in outcome ? "refused" : "issued").toBe("refused");
      expect(after.emergency).toBeNull();
    } finally {
      await held?.end();
      await v.close();
      await database.drop();
    }
  });
});
