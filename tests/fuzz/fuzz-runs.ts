/** `npm run fuzz` sets JETON_FUZZ_RUNS=100000; inside npm test each target gets a smaller number. */
export const fuzzRuns = Number(process.env.JETON_FUZZ_RUNS ?? 300);
