// What a batch's progress lines quote from a device reaches the terminal without control characters. An
// attacker review (2026-12-03) had a gadget's serial register clear the screen and print a fake
// "registered and assigned" line through the batch's progress stream.
import { describe, expect, it } from "vitest";
import { Progress } from "../../provisioner/progress.js";

describe("batch progress", () => {
  const written = (interactive: boolean, act: (progress: Progress) => void) => {
    const writes: string[] = [];
    const stream = { isTTY: interactive, write: (text: string) => writes.push(text) > 0 } as unknown as NodeJS.WriteStream;
    act(new Progress(2, stream));
    return writes.join("");
  };
  const hostile = "JT1\x1b]0;PWNED\x07\x1b[2J\nline 2: JT00000002 registered and assigned to alice";

  it("writes a device's text with its control characters and line breaks shown, on a terminal and in a log", () => {
    for (const interactive of [true, false]) {
      const out = written(interactive, (progress) => {
        progress.update(0, 0, `token ${hostile}`);
        progress.say(`token ${hostile} is already provisioned`);
        progress.end();
      });
      // The bar's own line rewrite (\r ESC[2K) is the only control sequence left.
      expect(out.replaceAll("\r\x1b[2K", "")).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
      expect(out).toContain("\\x1b]0;PWNED\\x07\\x1b[2J\\x0aline 2");
      expect(out.split("\n").filter((line) => line.includes("registered and assigned")).every((line) => line.includes("PWNED"))).toBe(true);
    }
  });
});
