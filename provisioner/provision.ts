// One token, start to finish: seed from the OS CSPRNG, write (seed, serial, time), verify, register
// with the validator, assign to the user. Everything that can be checked is checked before the
// write (token blank, serial free, validator reachable with a help-desk key), so a refusal changes
// nothing. After the write the token ends either registered or wiped, and the outcome says which.
import { TokenResult, resultName } from "../common/token-service/token-protocol.js";
import type { TokenClient } from "../common/token-service/token-client.js";
import { CommandFailure, exitCodes } from "../common/failure.js";
import { provisionerExitCodes } from "./exit-codes.js";
import { unixSeconds, type ReferenceClock } from "./reference-clock.js";
import { forgetSeed, generateSeed } from "./seed.js";
import { checkSerialFormat, freshSerial } from "./serial-number.js";
import type { ProvisionerProfile, TokenAlgorithm } from "./token-profile.js";
import type { ValidatorClient } from "./validator-client.js";
import { verifyToken, type Verification } from "./verify.js";
import { wipeWithConfirmation } from "./wipe.js";

export interface ProvisionRequest {
  user?: string;
  serial?: string;
  algorithm: TokenAlgorithm;
}

export interface ProvisionContext {
  token: TokenClient;
  validator: ValidatorClient;
  clock: ReferenceClock;
  profile: ProvisionerProfile;
  /** progress and prompts for the operator (never a secret) */
  say(line: string): void;
  /** serials handed out earlier in this run (a batch) but perhaps not registered yet */
  takenSerials?: Set<string>;
  /** receives the seed while it is still in memory (PSKC export, otpauth display); never stored */
  onSeed?(entry: { serial: string; user?: string; seed: Uint8Array; algorithm: TokenAlgorithm }): void;
}

export type FinalState = "registered" | "registered-unassigned" | "wiped" | "holds-unregistered-seed";

export interface ProvisionOutcome {
  serial: string;
  user: string | null;
  algorithm: TokenAlgorithm;
  /** what is true of the token now */
  state: FinalState;
  verification?: Verification;
  timings: { writeMs: number; verifyMs: number; registerMs: number; totalMs: number };
  clockSource: ReferenceClock["source"];
}

/** Raised after a write that could not be completed; `outcome.state` says how the token was left. */
export class ProvisionFailure extends CommandFailure {
  constructor(
    message: string,
    readonly outcome: ProvisionOutcome,
  ) {
    super(message, exitCodes.refused, outcome);
  }
}

export async function provisionToken(request: ProvisionRequest, ctx: ProvisionContext): Promise<ProvisionOutcome> {
  const { token, validator, clock, profile, say } = ctx;
  const started = Date.now();

  // --- before the write: every refusal here leaves token and validator untouched
  let alreadyProvisioned: boolean;
  let currentSerial = "";
  try {
    alreadyProvisioned = await token.provisioned();
    if (alreadyProvisioned) currentSerial = await token.serial();
  } catch (error) {
    throw new CommandFailure(`the token does not answer (${(error as Error).message})`, provisionerExitCodes.noToken);
  }
  if (alreadyProvisioned) {
    throw new CommandFailure(`the token is already provisioned (serial ${currentSerial || "unknown"}): wipe it first with \`jeton wipe\``, exitCodes.refused);
  }
  let serial: string;
  if (request.serial) {
    checkSerialFormat(request.serial, profile);
    if (ctx.takenSerials?.has(request.serial) || (await validator.findToken(request.serial))) {
      throw new CommandFailure(`serial ${request.serial} is already registered with the validator`, exitCodes.refused);
    }
    serial = request.serial;
  } else {
    serial = await freshSerial(profile, validator, ctx.takenSerials);
  }
  ctx.takenSerials?.add(serial);

  const seed = generateSeed(profile, request.algorithm);
  const timings = { writeMs: 0, verifyMs: 0, registerMs: 0, totalMs: 0 };
  const outcome = (state: FinalState, verification?: Verification): ProvisionOutcome => ({
    serial,
    user: request.user ?? null,
    algorithm: request.algorithm,
    state,
    verification,
    timings: { ...timings, totalMs: Date.now() - started },
    clockSource: clock.source,
  });

  try {
    // --- write
    let t = Date.now();
    let result: number;
    try {
      result = await token.provision({ time: unixSeconds(clock), algorithm: request.algorithm, serial, seed }, 5_000);
    } catch (error) {
      // no answer: the write may or may not have happened; verification below tells
      say(`the token did not confirm the write (${(error as Error).message}); checking what it holds`);
      result = (await token.provisioned()) ? TokenResult.Ok : -1;
    }
    timings.writeMs = Date.now() - t;
    if (result !== TokenResult.Ok) {
      const why = `the token refused the write: ${result < 0 ? "no answer" : resultName(result)}`;
      // Its checks refuse before it stores anything; a later failure (StorageFailed: the clock could not be
      // set or saved) may leave the seed stored, which must be wiped or said.
      if (result < 0 || refusedBeforeStoring.has(result) || !(await token.provisioned().catch(() => true))) {
        throw new CommandFailure(why, provisionerExitCodes.refused);
      }
      const state = await rollBack(token, say, why);
      throw new ProvisionFailure(`${why}; ${stateSentence(state, serial)}`, outcome(state));
    }

    // --- verify (from here on a failure must end registered or wiped)
    t = Date.now();
    let verification: Verification;
    try {
      verification = await verifyToken(token, { serial, seed, algorithm: request.algorithm }, profile, clock);
    } catch (error) {
      const why = `verification could not complete (${(error as Error).message})`;
      const state = await rollBack(token, say, why);
      throw new ProvisionFailure(`${why}; ${stateSentence(state, serial)}`, outcome(state));
    }
    timings.verifyMs = Date.now() - t;
    if (!verification.ok) {
      const failed = verification.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`).join("; ");
      const state = await rollBack(token, say, `verification failed (${failed})`);
      throw new ProvisionFailure(`verification failed (${failed}); ${stateSentence(state, serial)}`, outcome(state, verification));
    }

    // --- register
    t = Date.now();
    try {
      await validator.registerToken({ serial, seed, algorithm: request.algorithm, digits: profile.digits, period: profile.period });
    } catch (error) {
      // A lost answer (or an internal error) may hide a successful registration: ask before wiping. A
      // refusal registered nothing, whatever the validator may hold under that serial (a colleague may
      // have registered it meanwhile, with another seed).
      const known = answeredWithRefusal(error) ? undefined : await validator.findToken(serial).catch(() => undefined);
      if (!known) {
        const state = await rollBack(token, say, `registration failed (${(error as Error).message})`);
        throw new ProvisionFailure(`registration failed (${(error as Error).message}); ${stateSentence(state, serial)}`, outcome(state, verification));
      }
    }
    timings.registerMs = Date.now() - t;
    ctx.onSeed?.({ serial, user: request.user, seed, algorithm: request.algorithm });

    // --- assign
    if (request.user) {
      try {
        await validator.assignToken(serial, request.user);
      } catch (error) {
        throw new ProvisionFailure(
          `token ${serial} is registered but NOT assigned to ${request.user} (${(error as Error).message}); assign it with \`jeton token assign ${serial} ${request.user}\``,
          outcome("registered-unassigned", verification),
        );
      }
    }
    return outcome(request.user ? "registered" : "registered-unassigned", verification);
  } finally {
    forgetSeed(seed);
  }
}

/** The firmware's refusals that come before it stores anything (token-service.ts checks them first). */
const refusedBeforeStoring: ReadonlySet<number> = new Set([
  TokenResult.BadSeedLength,
  TokenResult.UnknownAlgorithm,
  TokenResult.BadSerial,
  TokenResult.AlreadyProvisioned,
  TokenResult.BadTime,
  TokenResult.Busy,
]);

/** The validator answered and refused (a 4xx with its error kind): nothing of the request was written. */
function answeredWithRefusal(error: unknown): boolean {
  const kind = error instanceof CommandFailure ? (error.body as { error?: unknown } | null | undefined)?.error : undefined;
  return typeof kind === "string" && kind !== "internal";
}

export function stateSentence(state: FinalState, serial: string): string {
  switch (state) {
    case "registered":
      return `token ${serial} is registered and assigned`;
    case "registered-unassigned":
      return `token ${serial} is registered (not assigned)`;
    case "wiped":
      return `the token was wiped (it holds no seed; serial ${serial} was not registered)`;
    case "holds-unregistered-seed":
      return `the token was NOT wiped and may hold a seed the validator does not know (serial ${serial}): wipe it with \`jeton wipe\` before using it`;
  }
}

/** After a failed verification or registration: wipe, asking for the button press (three tries). */
async function rollBack(token: TokenClient, say: (line: string) => void, why: string): Promise<FinalState> {
  say(`${why}: wiping the token so it holds no unregistered seed`);
  for (let attempt = 1; attempt <= 3; attempt++) {
    const result = await wipeWithConfirmation(token, say).catch(() => -1);
    if (result === TokenResult.Ok || result === TokenResult.NotProvisioned) return "wiped";
    // a token that no longer answers will not answer a second time either
    if (result < 0) {
      say("the token does not answer the wipe");
      break;
    }
    say(`the wipe was not confirmed (${resultName(result)})${attempt < 3 ? "; trying again" : ""}`);
  }
  return "holds-unregistered-seed";
}
