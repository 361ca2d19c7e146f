// Whether the token's firmware implements SetTimeTrim (issue 12, built on the firmware branch): a
// SetTimeTrim with a zero MAC is answered with a result code (NotProvisioned, BadMac…) by firmware that
// has it, and not at all by firmware that predates it. Changes nothing on the token either way.
import type { TokenClient } from "../../../common/token-service/token-client.js";

export async function supportsSetTimeTrim(token: TokenClient): Promise<boolean> {
  try {
    await token.setTimeTrim(Math.floor(Date.now() / 1000), 1, 0, Buffer.alloc(32), 3_000);
    return true;
  } catch {
    return false;
  }
}
