// Reading the token the way a person does: the code line of its display.
import type { TokenClient } from "../../../common/token-service/token-client.js";
import { ScureBase32Plugin } from "otplib";

/** The digits shown under the serial ("123 456" → "123456"); fails if the screen shows no code. */
export async function codeOnDisplay(token: TokenClient, serial: string): Promise<string> {
  const screen = await token.waitForScreen((text) => text.split("\n")[0] === serial && /^\d{3} \d{3}$/.test(text.split("\n")[1] ?? ""), 5_000);
  return screen.split("\n")[1]!.replace(" ", "");
}

/** Waits until the display shows a code other than `previous` (after the token's clock moved). */
export async function nextCodeOnDisplay(token: TokenClient, serial: string, previous: string): Promise<string> {
  const screen = await token.waitForScreen((text) => {
    const line = text.split("\n")[1] ?? "";
    return text.split("\n")[0] === serial && /^\d{3} \d{3}$/.test(line) && line.replace(" ", "") !== previous;
  }, 5_000);
  return screen.split("\n")[1]!.replace(" ", "");
}

/** The seed inside an otpauth:// URI (what `jeton provision --show-otpauth` prints). */
export function seedFromOtpauth(uri: string): Buffer {
  const secret = new URL(uri).searchParams.get("secret");
  if (!secret) throw new Error("otpauth URI without a secret");
  return Buffer.from(new ScureBase32Plugin().decode(secret));
}
