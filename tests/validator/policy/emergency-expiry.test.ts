import { describe, expect, it } from "vitest";
import { endOfLocalDay } from "../../../validator/policy/emergency.js";

describe("emergency passwords end at 23:59 local time", () => {
  it("in Paris in winter (UTC+1)", () => {
    expect(new Date(endOfLocalDay(Date.UTC(2026, 10, 26, 9, 0), "Europe/Paris")).toISOString()).toBe("2026-11-26T22:59:59.999Z");
  });

  it("in Paris in summer (UTC+2)", () => {
    expect(new Date(endOfLocalDay(Date.UTC(2026, 6, 1, 12, 0), "Europe/Paris")).toISOString()).toBe("2026-07-01T21:59:59.999Z");
  });

  it("after local midnight but before UTC midnight it is already the next local day", () => {
    // 23:30 UTC on 26 Nov is 00:30 on 27 Nov in Paris.
    expect(new Date(endOfLocalDay(Date.UTC(2026, 10, 26, 23, 30), "Europe/Paris")).toISOString()).toBe("2026-11-27T22:59:59.999Z");
  });

  it("on the day clocks go back (25 hours long) and in other zones", () => {
    expect(new Date(endOfLocalDay(Date.UTC(2026, 9, 25, 0, 30), "Europe/Paris")).toISOString()).toBe("2026-10-25T22:59:59.999Z");
    expect(new Date(endOfLocalDay(Date.UTC(2026, 10, 26, 12, 0), "America/Montreal")).toISOString()).toBe("2026-11-27T04:59:59.999Z");
    expect(new Date(endOfLocalDay(Date.UTC(2026, 10, 26, 12, 0), "UTC")).toISOString()).toBe("2026-11-26T23:59:59.999Z");
  });
});
