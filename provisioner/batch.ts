// Batch provisioning: the operator plugs tokens one after another; each blank token gets the next
// pending CSV row. Rows finished in an earlier run (journal) are skipped; a row cut off mid-write is
// repaired first (registered → finished; not registered → its token, if it comes back, is wiped
// with the button and provisioned again). A refused row does not stop the others; an unreachable
// validator or no token within --wait stops the batch, which resumes where it stopped.
import type { TokenClient } from "../common/token-service/token-client.js";
import { TokenResult, resultName } from "../common/token-service/token-protocol.js";
import { CommandFailure, exitCodes } from "../common/failure.js";
import type { BatchRow, MalformedRow } from "./batch-csv.js";
import type { BatchJournal } from "./batch-journal.js";
import type { Progress } from "./progress.js";
import { provisionToken, ProvisionFailure, type ProvisionOutcome } from "./provision.js";
import type { ExportTarget } from "./pskc/export-target.js";
import type { ReferenceClock } from "./reference-clock.js";
import { freshSerial } from "./serial-number.js";
import { waitForOneToken, type TokenBus } from "./token-connection.js";
import type { ProvisionerProfile, TokenAlgorithm } from "./token-profile.js";
import type { ValidatorClient } from "./validator-client.js";
import { wipeWithConfirmation } from "./wipe.js";

export interface BatchRowResult {
  line: number;
  user: string;
  serial?: string;
  result: "done" | "done-earlier" | "failed" | "not-reached";
  message?: string;
  seconds?: number;
}

export interface BatchSummary {
  rows: BatchRowResult[];
  malformed: MalformedRow[];
  done: number;
  doneEarlier: number;
  failed: number;
  notReached: number;
  /** why the batch stopped before the end, if it did */
  stopped?: string;
  secondsPerToken?: number;
}

export interface BatchContext {
  tokenBus: TokenBus;
  validator: ValidatorClient;
  clock: ReferenceClock;
  profile: ProvisionerProfile;
  journal: BatchJournal;
  progress: Progress;
  algorithm: TokenAlgorithm;
  waitMs: number;
  exportTarget?: ExportTarget;
  /** resolves when the operator asked to stop (Ctrl-C): stop before the next token */
  stopRequested: { value: boolean; signal: Promise<void> };
}

const now = () => new Date().toISOString();

/**
 * A row whose token an earlier run registered, or may have (cut off between "writing" and its result):
 * finished if the validator has that token for this row's user, or unassigned (then assigned to them).
 * An assignment the validator refuses (a help-desk colleague's account, say) leaves the row as the
 * journal has it, so a later run finishes it once the refusal is dealt with; the other rows go on. A
 * token registered to someone else is not this row's: it is provisioned again, on a new token.
 */
async function settleRegistered(row: BatchRow, serial: string, ctx: BatchContext): Promise<"done" | "redo" | "taken" | { refused: string }> {
  const known = await ctx.validator.findToken(serial);
  if (!known) {
    ctx.progress.say(`line ${row.line}: the earlier run stopped while writing token ${serial}; it is not registered — if that token is plugged in it will be wiped (button) and provisioned again`);
    return "redo";
  }
  if (known.user !== null && known.user !== row.user) {
    ctx.progress.say(`line ${row.line}: token ${serial} is registered to ${known.user}, not to ${row.user}: this row gets a new token`);
    return "taken";
  }
  if (known.user === null) {
    try {
      await ctx.validator.assignToken(serial, row.user);
    } catch (error) {
      if (!(error instanceof CommandFailure) || error.exitCode !== exitCodes.refused) throw error;
      const refused = `token ${serial} is registered, but assigning it to ${row.user} was refused: ${error.message}`;
      ctx.progress.say(`line ${row.line}: FAILED — ${refused}; run the batch again afterwards to finish this row`);
      return { refused };
    }
  }
  ctx.journal.append({ type: "row", line: row.line, user: row.user, state: "done", serial, at: now() });
  ctx.progress.say(`line ${row.line}: token ${serial} was registered by an earlier run; now assigned to ${row.user}`);
  return "done";
}

export async function runBatch(rows: BatchRow[], malformed: MalformedRow[], ctx: BatchContext): Promise<BatchSummary> {
  const { journal, progress } = ctx;
  const results = new Map<number, BatchRowResult>();
  const pending: BatchRow[] = [];
  /** serials whose write was cut off: such a token may come back holding an unregistered seed */
  const interrupted = new Set<string>();
  /** a redone row keeps the serial its token already shows (unless the CSV names one) */
  const interruptedSerialOf = new Map<number, string>();
  let doneEarlier = 0;
  let failed = 0;
  for (const row of rows) {
    const history = journal.history.get(row.line);
    const settled = (history?.state === "writing" || history?.state === "registered") && history.serial ? await settleRegistered(row, history.serial, ctx) : null;
    if (history?.state === "done" || settled === "done") {
      results.set(row.line, { ...row, serial: history!.serial, result: "done-earlier" });
      doneEarlier++;
    } else if (typeof settled === "object" && settled !== null) {
      results.set(row.line, { ...row, serial: history!.serial, result: "failed", message: settled.refused });
      failed++;
    } else {
      if (settled === "redo") {
        interrupted.add(history!.serial!);
        interruptedSerialOf.set(row.line, history!.serial!);
      }
      pending.push(row);
    }
  }
  if (doneEarlier > 0) progress.say(`resuming: ${doneEarlier} row(s) already done, ${pending.length} to go`);
  for (const bad of malformed) progress.say(`line ${bad.line}: skipped, ${bad.problem}`);

  const taken = new Set<string>();
  const excluded: string[] = [];
  let done = 0;
  let stopped: string | undefined;
  const seconds: number[] = [];
  const counted = () => doneEarlier + done;

  rows: for (const row of pending) {
    if (ctx.stopRequested.value) {
      stopped = "stopped by the operator";
      break;
    }
    // --- a blank token for this row
    let token: TokenClient;
    for (;;) {
      progress.update(counted(), failed, `line ${row.line} (${row.user}): waiting for a blank token — plug it in`);
      try {
        token = await Promise.race([
          waitForOneToken(ctx.tokenBus, { timeoutMs: ctx.waitMs, excludeDeviceIds: excluded }),
          ctx.stopRequested.signal.then(() => {
            throw new CommandFailure("stopped by the operator", exitCodes.refused);
          }),
        ]);
      } catch (error) {
        stopped = (error as Error).message;
        break rows;
      }
      if (!(await token.provisioned())) break;
      const serial = await token.serial();
      if (interrupted.has(serial) && !(await ctx.validator.findToken(serial))) {
        progress.say(`token ${serial} holds the seed of an interrupted write: press its button to wipe it`);
        const result = await wipeWithConfirmation(token, (line) => progress.say(line)).catch(() => -1);
        if (result === TokenResult.Ok) {
          interrupted.delete(serial);
          break;
        }
        progress.say(`token ${serial} was not wiped (${result < 0 ? "no answer" : resultName(result)}): set it aside`);
      } else {
        progress.say(`token ${serial} is already provisioned: unplug it and plug a blank one`);
      }
      excluded.push(token.deviceId);
    }

    // --- provision it
    const started = Date.now();
    let serial = row.serial ?? interruptedSerialOf.get(row.line);
    try {
      serial ??= await freshSerial(ctx.profile, ctx.validator, taken);
      taken.add(serial);
      journal.append({ type: "row", line: row.line, user: row.user, state: "writing", serial, at: now() });
      progress.update(counted(), failed, `line ${row.line} (${row.user}): writing ${serial}`);
      const outcome: ProvisionOutcome = await provisionToken(
        { user: row.user, serial, algorithm: ctx.algorithm },
        { token, validator: ctx.validator, clock: ctx.clock, profile: ctx.profile, say: (line) => progress.say(line), onSeed: (entry) => ctx.exportTarget?.add(entry, ctx.profile) },
      );
      // export first: a crash after this leaves the row "writing", which the next run settles
      if (ctx.exportTarget) ctx.exportTarget.write();
      journal.append({ type: "row", line: row.line, user: row.user, state: "done", serial, at: now() });
      excluded.push(token.deviceId);
      done++;
      seconds.push((Date.now() - started) / 1000);
      results.set(row.line, { ...row, serial, result: "done", seconds: outcome.timings.totalMs / 1000 });
      progress.say(`line ${row.line}: ${serial} registered and assigned to ${row.user} — unplug the token`);
    } catch (error) {
      const message = (error as Error).message;
      failed++;
      // A registered token whose assignment was refused: the next run assigns it rather than write another.
      if (error instanceof ProvisionFailure && error.outcome.state === "registered-unassigned") {
        journal.append({ type: "row", line: row.line, user: row.user, state: "registered", serial: error.outcome.serial, message, at: now() });
      } else {
        journal.append({ type: "row", line: row.line, user: row.user, state: "failed", ...(serial && { serial }), message, at: now() });
      }
      results.set(row.line, { ...row, serial, result: "failed", message });
      if (error instanceof ProvisionFailure) {
        // the token was written: whatever it holds now, it is not for the next row
        excluded.push(token.deviceId);
        progress.say(`line ${row.line}: FAILED — ${message} — unplug the token and set it aside`);
        if (error.outcome.state === "registered-unassigned" && ctx.exportTarget) ctx.exportTarget.write();
      } else {
        progress.say(`line ${row.line}: FAILED — ${message}`);
      }
      const code = (error as CommandFailure).exitCode;
      if (code === exitCodes.unreachable) {
        stopped = "the validator is unreachable";
        break;
      }
      if (code === 4) {
        stopped = "the token stopped answering";
        excluded.push(token.deviceId);
      }
    }
  }
  progress.update(counted(), failed, stopped ? `stopped: ${stopped}` : "finished");
  progress.end();

  const all = rows.map((row) => results.get(row.line) ?? { ...row, result: "not-reached" as const });
  return {
    rows: all,
    malformed,
    done,
    doneEarlier,
    failed,
    notReached: all.filter((r) => r.result === "not-reached").length,
    ...(stopped && { stopped }),
    ...(seconds.length && { secondsPerToken: Number((seconds.reduce((a, b) => a + b, 0) / seconds.length).toFixed(2)) }),
  };
}
