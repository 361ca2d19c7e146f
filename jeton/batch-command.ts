// `jeton batch <file.csv>`: provisions one token per CSV row as the operator plugs them in, with a
// progress bar, a resumable journal (<file.csv>.journal unless --journal) and a summary. Ctrl-C stops
// after the current token (twice: at once; the journal still tells the next run where it stopped).
import { existsSync, readFileSync } from "node:fs";
import { Option, type Command } from "commander";
import { CommandFailure, exitCodes } from "../common/failure.js";
import { parseBatchCsv } from "../provisioner/batch-csv.js";
import { BatchJournal } from "../provisioner/batch-journal.js";
import { runBatch, type BatchSummary } from "../provisioner/batch.js";
import { addTargetOptions, print, waitMillis, withTokenBus, type TargetOptions } from "../provisioner/cli-support.js";
import { checkAlgorithm, preparedValidator } from "../provisioner/provision-inputs.js";
import { adminApi } from "./api-client.js";
import { provisionerExitCodes } from "../provisioner/exit-codes.js";
import { Progress } from "../provisioner/progress.js";
import { addExportOptions, openExportTarget, type ExportOptions } from "../provisioner/pskc/export-target.js";
import { loadProvisionerProfile } from "../provisioner/token-profile.js";

function describeSummary(summary: BatchSummary, journalPath: string): string {
  const lines = [
    `batch ${summary.stopped ? `stopped (${summary.stopped})` : "finished"}: ${summary.done + summary.doneEarlier} of ${summary.rows.length} row(s) done` +
      `${summary.doneEarlier ? ` (${summary.doneEarlier} in an earlier run)` : ""}, ${summary.failed} failed, ${summary.notReached} not reached, ${summary.malformed.length} malformed` +
      `${summary.secondsPerToken !== undefined ? `; ${summary.secondsPerToken} s per token` : ""}`,
    ...summary.malformed.map((m) => `  line ${m.line}: malformed — ${m.problem}`),
    ...summary.rows.filter((r) => r.result === "failed").map((r) => `  line ${r.line} (${r.user}): FAILED — ${r.message}`),
    ...summary.rows.filter((r) => r.result === "done").map((r) => `  line ${r.line}: ${r.serial} → ${r.user}`),
    `journal: ${journalPath}${summary.notReached || summary.failed ? " (run the same command again to resume)" : ""}`,
  ];
  return lines.join("\n");
}

export function registerBatchCommand(program: Command): void {
  const command = addTargetOptions(
    program
      .command("batch <file.csv>")
      .description("provision one token per CSV row (user[,serial]) as they are plugged in; resumable (JETON_URL, JETON_API_KEY)")
      .option("--journal <file>", "where progress is recorded (default: <file.csv>.journal)")
      .addOption(new Option("--algorithm <name>", "TOTP algorithm (default from devicescript.json)").choices(["SHA256", "SHA1"])),
    "300",
  );
  addExportOptions(command).action(async (file: string, options: TargetOptions & ExportOptions & { journal?: string; algorithm?: string }) => {
    const profile = loadProvisionerProfile();
    const algorithm = checkAlgorithm(options.algorithm, profile.algorithm);
    const waitMs = waitMillis(options);
    if (!existsSync(file)) throw new CommandFailure(`CSV file ${file} does not exist`, exitCodes.usage);
    const content = readFileSync(file, "utf8");
    const { rows, malformed } = parseBatchCsv(content, profile);
    if (rows.length === 0) {
      const why = malformed.map((m) => `line ${m.line}: ${m.problem}`).join("; ");
      throw new CommandFailure(`no valid row in ${file}${why ? ` (${why})` : " (expected user[,serial] per line)"}`, exitCodes.usage);
    }
    const journalPath = options.journal ?? `${file}.journal`;
    const journal = BatchJournal.open(journalPath, content);
    const exportTarget = openExportTarget(options);
    const { validator, clock } = await preparedValidator(adminApi());

    let resolveStop = () => undefined as void;
    const stopRequested = { value: false, signal: new Promise<void>((resolve) => (resolveStop = resolve)) };
    const onSignal = () => {
      if (stopRequested.value) process.exit(130);
      stopRequested.value = true;
      resolveStop();
      process.stderr.write("\nstopping after the current token (Ctrl-C again to quit now; the journal keeps the progress)\n");
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);

    const progress = new Progress(rows.length);
    const summary = await withTokenBus(options, (tokenBus) =>
      runBatch(rows, malformed, { tokenBus, validator, clock, profile, journal, progress, algorithm, waitMs, exportTarget, stopRequested }),
    );
    if (exportTarget && exportTarget.count > 0) progress.say(`PSKC: ${exportTarget.write()}`);
    print(options, { ...summary, journal: journalPath }, describeSummary(summary, journalPath));
    const complete = summary.failed === 0 && summary.notReached === 0 && summary.malformed.length === 0;
    if (!complete) {
      process.exitCode =
        summary.stopped === "the validator is unreachable" ? exitCodes.unreachable : summary.stopped?.startsWith("no token found") ? provisionerExitCodes.noToken : exitCodes.refused;
    }
  });
}
