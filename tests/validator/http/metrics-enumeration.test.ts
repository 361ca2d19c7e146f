// /metrics never tells a known identifier from an unknown one (an attacker review, 2026-12-03: answering a
// challenge with a made-up id moved "challenge-unknown" for a known user and "credentials" for anyone
// else, with one request and no code). The caller sees the same reject either way.
import { describe, expect, it } from "vitest";
import { validatorForSuite, type RunningValidator } from "../../support/test-validator.js";

function sample(text: string, series: string): number {
  const line = text.split("\n").find((candidate) => candidate.startsWith(series + " "));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe("metrics and user enumeration", () => {
  let v: RunningValidator;
  validatorForSuite("sqlite", (started) => (v = started));

  it("a challenge answer for a known and for an unknown identifier moves the same metric series", async () => {
    expect((await v.request("POST", "/v1/tokens", { serial: "JT00000001", secret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" })).status).toBe(201);
    expect((await v.request("POST", "/v1/tokens/JT00000001/assign", { user: "jdupont" })).status).toBe(200);

    /** Which jeton_validations_total series moved for one attempt. */
    async function seriesMovedBy(user: string): Promise<string[]> {
      const before = (await v.request("GET", "/metrics", undefined, "metrics")).text;
      const answer = await v.request("POST", "/v1/validate", { user, challenge: "made-up-challenge-id", response: "123456" }, "portal");
      expect(answer.json.result).toBe("reject"); // the caller cannot tell them apart: correct
      const after = (await v.request("GET", "/metrics", undefined, "metrics")).text;
      const series = after.split("\n").filter((line) => line.startsWith("jeton_validations_total{")).map((line) => line.slice(0, line.lastIndexOf(" ")));
      return series.filter((name) => sample(after, name) !== sample(before, name));
    }

    const known = await seriesMovedBy("jdupont");
    const unknown = await seriesMovedBy("nobody-here");
    // Expected: one generic reason for both (as for passcodes). Today: reason="challenge-unknown" vs reason="credentials".
    expect(known).toEqual(unknown);
  });
});
