// The help desk's drift-rate measurement at a resync (issue 12), as a pure function: the rate since the
// clock was last set, the trim that cancels it, and when no trim may be computed.
import { describe, expect, it } from "vitest";
import { assessDrift, describeDrift, MIN_TRIM_ELAPSED_SECONDS } from "../../common/drift-rate.js";

const DAY = 86_400;

describe("drift rate at a resync", () => {
  it("41 s slow over 93 days is −5.1 ppm, trimmed as a slow crystal (negative ppb)", () => {
    const assessment = assessDrift({ offsetSeconds: -41, elapsedSeconds: 93 * DAY, currentTrimPpb: 0 });
    expect(assessment.rate).toBe("measured");
    expect(assessment.ppm).toBeCloseTo(-5.1025, 3);
    expect(assessment.trimPpb).toBe(-5103);
    expect(describeDrift(-41, 93 * DAY, assessment.ppm!)).toBe("41 s slow over 93 days: \u22125.1 ppm");
  });

  it("a fast token gets a positive trim (its crystal must be slowed)", () => {
    const assessment = assessDrift({ offsetSeconds: 52, elapsedSeconds: 30 * DAY, currentTrimPpb: 0 });
    expect(assessment).toEqual({ rate: "measured", ppm: expect.closeTo(20.06, 2), trimPpb: 20062 });
    expect(describeDrift(52, 30 * DAY, assessment.ppm!)).toBe("52 s fast over 30 days: +20.1 ppm");
  });

  it("the residual measured under a trim adds to it", () => {
    // trimmed at +20 ppm, still 3 s fast over 60 days: the crystal runs 0.58 ppm faster than the trim assumed
    expect(assessDrift({ offsetSeconds: 3, elapsedSeconds: 60 * DAY, currentTrimPpb: 20_000 }).trimPpb).toBe(20_579);
    expect(assessDrift({ offsetSeconds: -3, elapsedSeconds: 60 * DAY, currentTrimPpb: 20_000 }).trimPpb).toBe(19_421);
  });

  it("under 7 days, or without a known set time, gives time only (no trim)", () => {
    expect(assessDrift({ offsetSeconds: -5, elapsedSeconds: MIN_TRIM_ELAPSED_SECONDS - 1, currentTrimPpb: 0 })).toEqual({ rate: "too-short", ppm: expect.any(Number), trimPpb: null });
    expect(assessDrift({ offsetSeconds: -5, elapsedSeconds: MIN_TRIM_ELAPSED_SECONDS, currentTrimPpb: 0 }).rate).toBe("measured");
    expect(assessDrift({ offsetSeconds: -5, elapsedSeconds: null, currentTrimPpb: 0 })).toEqual({ rate: "unknown", ppm: null, trimPpb: null });
    expect(assessDrift({ offsetSeconds: -5, elapsedSeconds: 0, currentTrimPpb: 0 }).rate).toBe("unknown");
    expect(describeDrift(-5, 3 * 3600, -463)).toBe("5 s slow over 3 h: \u2212463.0 ppm");
  });

  it("refuses a total trim beyond ±200 ppm", () => {
    expect(assessDrift({ offsetSeconds: 1800, elapsedSeconds: 100 * DAY, currentTrimPpb: 0 })).toMatchObject({ rate: "out-of-range", trimPpb: null });
    expect(assessDrift({ offsetSeconds: -100, elapsedSeconds: 10 * DAY, currentTrimPpb: -190_000 })).toMatchObject({ rate: "out-of-range", trimPpb: null });
    expect(assessDrift({ offsetSeconds: 172, elapsedSeconds: 10 * DAY, currentTrimPpb: 0 }).trimPpb).toBe(199_074);
  });
});
