/**
 * npm run bench:drift [-- --tokens 1000 --use-days 90 --seed 12]
 *
 * Clock drift of rarely used tokens (issue 12), simulated through the validator's real rules
 * (verifyPasscode, answerChallenge) and the help desk's real rate computation (assessDrift). For each
 * crystal tolerance (±20, ±40 ppm) and each rule, `--tokens` tokens are provisioned, used every few days
 * for `--use-days`, then left unused for 3, 6 and 12 months; the first login after that is counted as
 * accepted directly, accepted after a next-code challenge (the user types the following code), or refused.
 *
 * Rules: "offset-only" — today's: a fixed ±10-step challenge window (the policy with no growth);
 * "grown-window" — the default policy, the window growing one step per week unused up to ±30;
 * "grown-window+trim" — the same, with a help-desk resync at the end of the use period that sets the
 * clock and trims the rate measured since provisioning (quantised to the PCF85063A's 4.34 ppm steps on
 * every other token, the Badger; exact on the others, the XIAO's software rate).
 *
 * The crystal: a rate drawn uniformly within the tolerance at 25 °C, aging drawn within ±3 ppm/year, and
 * the tuning fork's −0.034 ppm/°C² around 25 °C, with the day's temperature on a desk (23 ± 1.5 °C) and
 * in a drawer (a per-token 10–28 °C, ± 2 °C a day). Deterministic for a given --seed.
 * Prints a table, then (last line) the JSON {"cases":[{ppm, monthsUnused, rule, direct, afterChallenge, refused}]}.
 */
import { parseArgs } from "node:util";
import { assessDrift } from "../common/drift-rate.js";
import { loadProfile } from "../common/profile.js";
import { answerChallenge } from "../validator/policy/answer-challenge.js";
import type { StateChange } from "../validator/policy/outcome.js";
import { defaultPolicy, type VerificationPolicy } from "../validator/policy/policy.js";
import type { ChallengeState, UserState } from "../validator/policy/state.js";
import { codeAt } from "../validator/policy/totp.js";
import { verifyPasscode } from "../validator/policy/verify-passcode.js";
import { masterKeyFrom } from "../validator/secrets/master-key.js";
import { verifierChecks } from "../validator/secrets/verifiers.js";

const { values: args } = parseArgs({
  options: { tokens: { type: "string", default: "1000" }, "use-days": { type: "string", default: "90" }, seed: { type: "string", default: "12" } },
});
const tokenCount = Number(args.tokens);
const useDays = Number(args["use-days"]);
const seed = Number(args.seed);
if (![tokenCount, useDays, seed].every((value) => Number.isInteger(value) && value > 0)) throw new Error("--tokens, --use-days and --seed are positive integers");

const TOLERANCES_PPM = [20, 40] as const;
const MONTHS_UNUSED = [3, 6, 12] as const;
const RULES = ["offset-only", "grown-window", "grown-window+trim"] as const;
type Rule = (typeof RULES)[number];
type Result = "direct" | "afterChallenge" | "refused";

const DAY = 86_400;
const USE_EVERY_DAYS = 3;
const PCF85063A_STEP_PPB = 4340;
const START = Date.UTC(2026, 8, 1) / 1000;
const PIN = "583920";
const USER = "drift";

const profile = loadProfile();
const defaults = defaultPolicy(profile, "Europe/Paris");
const policies: Record<Rule, VerificationPolicy> = {
  "offset-only": { ...defaults, challengeWindowMax: defaults.challengeWindow },
  "grown-window": defaults,
  "grown-window+trim": defaults,
};
const checks = verifierChecks(masterKeyFrom(Buffer.alloc(32, 7)));
const pinVerifier = checks.pinVerifier(USER, PIN);

/** A stateless uniform draw in [0, 1) for (token, day, purpose…): every rule sees the same crystals and days. */
function uniform(...keys: number[]): number {
  let h = seed ^ 0x9e3779b9;
  for (const key of keys) {
    h = Math.imul(h ^ (key | 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return (h >>> 0) / 2 ** 32;
}
const between = (low: number, high: number, ...keys: number[]) => low + (high - low) * uniform(...keys);
const normal = (...keys: number[]) => Math.sqrt(-2 * Math.log(1 - uniform(...keys, 1))) * Math.cos(2 * Math.PI * uniform(...keys, 2));

const Draw = { Rate: 1, Aging: 2, Drawer: 3, Temperature: 4, LoginTime: 5, Typing: 6, Answer: 7, SetError: 8, Secret: 9 } as const;

interface Crystal {
  index: number;
  ppmAt25: number;
  agingPpmPerYear: number;
  drawerCelsius: number;
  badger: boolean;
}

/** The token: its crystal, the trim it applies, and its clock's offset from true time (s). */
interface Token {
  crystal: Crystal;
  trimPpb: number;
  offsetSeconds: number;
}

function crystal(index: number, tolerance: number): Crystal {
  return {
    index,
    ppmAt25: between(-tolerance, tolerance, index, tolerance, Draw.Rate),
    agingPpmPerYear: between(-3, 3, index, tolerance, Draw.Aging),
    drawerCelsius: between(10, 28, index, tolerance, Draw.Drawer),
    badger: index % 2 === 0,
  };
}

/** The token's clock over one day: rate (ppm, positive fast) of the crystal that day, less its trim. */
function advanceDay(token: Token, day: number, inDrawer: boolean): void {
  const { crystal } = token;
  const celsius = inDrawer ? crystal.drawerCelsius + 2 * normal(crystal.index, day, Draw.Temperature) : 23 + 1.5 * normal(crystal.index, day, Draw.Temperature);
  const ppm = crystal.ppmAt25 + crystal.agingPpmPerYear * (day / 365) - 0.034 * (celsius - 25) ** 2 - token.trimPpb / 1000;
  token.offsetSeconds += ppm * 1e-6 * DAY;
}

/** The validator's view of the user and token, changed only as storage applies the rules' decisions. */
function apply(state: UserState, change: StateChange, now: number): void {
  const token = state.tokens[0]!;
  if (change.acceptStep) {
    token.lastStep = change.acceptStep.step;
    token.offset = change.acceptStep.offset;
    token.lastAcceptedAt = now;
  }
  if (change.failures === "increment") state.lockout = { failures: state.lockout.failures + 1, lastFailureAt: now };
  if (change.failures === "restart") state.lockout = { failures: 1, lastFailureAt: now };
  if (change.failures === "reset") state.lockout = { failures: 0, lastFailureAt: null };
  if (change.createChallenge) state.epoch = change.createChallenge.epoch;
}

/** One login on `day`: the user reads the code, types it; on a next-code challenge, waits for and types the next. */
function login(token: Token, state: UserState, day: number, policy: VerificationPolicy): Result {
  const { index } = token.crystal;
  const secret = state.tokens[0]!.secret;
  const parameters = state.tokens[0]!.parameters;
  const shownAt = START + day * DAY + 8 * 3600 + between(0, 10 * 3600, index, day, Draw.LoginTime);
  const shown = Math.floor((shownAt + token.offsetSeconds) / parameters.period);
  const typedAt = (shownAt + between(3, 20, index, day, Draw.Typing)) * 1000;
  const first = verifyPasscode(state, { passcode: PIN + codeAt(secret, shown, parameters), newChallengeId: "c" }, typedAt, policy, checks);
  apply(state, first.change, typedAt);
  if (first.decision.result === "accept") return "direct";
  if (first.decision.result !== "challenge" || !first.change.createChallenge) return "refused";
  const opened = first.change.createChallenge;
  const challenge: ChallengeState = { ...opened, id: "c", user: USER, openedAt: typedAt, answered: false };
  // The next code appears when the token's clock reaches the following step (it may already show when
  // the challenge arrives); the user reads it, then types it.
  const nextShownAt = Math.max((shown + 1) * parameters.period - token.offsetSeconds, typedAt / 1000 + 1);
  const answeredAt = (nextShownAt + between(3, 20, index, day, Draw.Answer)) * 1000;
  const second = answerChallenge(state, { challenge, response: codeAt(secret, shown + 1, parameters), newChallengeId: "n" }, answeredAt, policy, checks);
  apply(state, second.change, answeredAt);
  return second.decision.result === "accept" ? "afterChallenge" : "refused";
}

/** A help-desk resync: measure (whole seconds), trim by the rate since the last set, set the clock. */
function resync(token: Token, state: UserState, day: number, setDay: number): void {
  const measured = Math.round(token.offsetSeconds);
  const assessment = assessDrift({ offsetSeconds: measured, elapsedSeconds: (day - setDay) * DAY, currentTrimPpb: token.trimPpb });
  if (assessment.trimPpb !== null) {
    token.trimPpb = token.crystal.badger ? Math.round(assessment.trimPpb / PCF85063A_STEP_PPB) * PCF85063A_STEP_PPB : assessment.trimPpb;
  }
  token.offsetSeconds = between(-0.5, 0.5, token.crystal.index, day, Draw.SetError);
  state.tokens[0]!.offset = 0; // the confirmation (clock-confirmed) starts the learned offset over
}

function simulate(tolerance: number, rule: Rule): Record<number, Record<Result, number>> {
  const policy = policies[rule];
  const counts = Object.fromEntries(MONTHS_UNUSED.map((months) => [months, { direct: 0, afterChallenge: 0, refused: 0 }])) as Record<number, Record<Result, number>>;
  for (let index = 0; index < tokenCount; index++) {
    const secret = Buffer.from(Array.from({ length: 32 }, (_, byte) => Math.floor(256 * uniform(index, tolerance, Draw.Secret, byte))));
    const token: Token = { crystal: crystal(index, tolerance), trimPpb: 0, offsetSeconds: between(-0.5, 0.5, index, tolerance, Draw.SetError) };
    const state: UserState = {
      user: USER,
      known: true,
      pinVerifier,
      lockout: { failures: 0, lastFailureAt: null },
      epoch: 0,
      tokens: [{ serial: `JT${index}`, secret, parameters: policy.token, offset: 0, lastStep: null, lastAcceptedAt: START * 1000 }],
      emergency: null,
    };
    for (let day = 1; day <= useDays; day++) {
      advanceDay(token, day, false);
      if (day % USE_EVERY_DAYS === 0) login(token, state, day, policy);
    }
    if (rule === "grown-window+trim") resync(token, state, useDays, 0);
    for (const months of MONTHS_UNUSED) {
      const later: Token = { ...token };
      const laterState: UserState = { ...state, tokens: [{ ...state.tokens[0]! }] };
      const firstLogin = useDays + Math.round(months * 30.44);
      for (let day = useDays + 1; day <= firstLogin; day++) advanceDay(later, day, true);
      counts[months]![login(later, laterState, firstLogin, policy)]++;
    }
  }
  return counts;
}

const share = (count: number) => Math.round((count / tokenCount) * 10_000) / 10_000;
const cases: Array<{ ppm: number; monthsUnused: number; rule: Rule } & Record<Result, number>> = [];
for (const ppm of TOLERANCES_PPM) {
  for (const rule of RULES) {
    const counts = simulate(ppm, rule);
    for (const months of MONTHS_UNUSED) cases.push({ ppm, monthsUnused: months, rule, ...(Object.fromEntries(Object.entries(counts[months]!).map(([k, v]) => [k, share(v)])) as Record<Result, number>) });
  }
}

const percent = (value: number) => `${(value * 100).toFixed(1)} %`.padStart(7);
console.log(`${tokenCount} tokens per case, used every ${USE_EVERY_DAYS} days for ${useDays} days, then unused; first login: direct / after a next-code challenge / refused`);
console.log(`| ±ppm | unused | ${RULES.map((rule) => rule.padEnd(29)).join(" | ")} |`);
console.log(`|---|---|${RULES.map(() => "---").join("|")}|`);
for (const ppm of TOLERANCES_PPM) {
  for (const months of MONTHS_UNUSED) {
    const cells = RULES.map((rule) => {
      const found = cases.find((c) => c.ppm === ppm && c.monthsUnused === months && c.rule === rule)!;
      return `${percent(found.direct)} /${percent(found.afterChallenge)} /${percent(found.refused)}`;
    });
    console.log(`| ${ppm} | ${String(months).padStart(2)} months | ${cells.join(" | ")} |`);
  }
}
const target = cases.find((c) => c.ppm === 20 && c.monthsUnused === 6 && c.rule === "grown-window")!;
const succeeded = target.direct + target.afterChallenge;
console.log(`target (±20 ppm, 6 months unused, grown-window, no help desk): ${percent(succeeded).trim()} succeed (≥ 99 % wanted): ${succeeded >= 0.99 ? "met" : "NOT met"}`);
console.log(JSON.stringify({ cases }));
