/** `npm run fuzz` sets JETON_FUZZ_RUNS=100000; inside npm test each target gets a smaller number. */
export const fuzzRuns = Number(process.env.JETON_FUZZ_RUNS ?? 300);

/**
 * Targets whose every input goes through the DeviceScript VM answer about 40 inputs a second, so they are
 * capped at 10 000 inputs (about four minutes); the decoders that run in Node take the full number.
 */
export const vmFuzzRuns = Math.min(fuzzRuns, 10_000);

/** 60 ms per VM input, never less than the suite's default test timeout. */
export const vmFuzzTimeoutMs = Math.max(180_000, vmFuzzRuns * 60);
