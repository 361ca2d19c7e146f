// Wiping a token: the firmware asks for a press of the token's button (10 s window) before it
// erases anything, so the operator is told to press it while the command waits.
import { CONFIRMATION_TIMEOUT_MS, type TokenClient } from "../common/token-service/token-client.js";

/** Sends the wipe and tells the operator to press the button; resolves with the firmware's result code. */
export async function wipeWithConfirmation(token: TokenClient, say: (line: string) => void): Promise<number> {
  say("press the button on the token to confirm the wipe (10 s)…");
  return token.wipe(CONFIRMATION_TIMEOUT_MS);
}
