// The batch journal: an append-only JSON-lines file next to the CSV (never a seed) recording, per
// row, "writing" (with the serial, before the token is written), then "done", "registered" (the token
// is registered but its assignment was refused) or "failed". Each record is flushed to disk before the
// step it announces, so after a crash or Ctrl-C the next run knows which rows are finished, which
// failed, which only need their token assigned, and which were cut off mid-write (and with which
// serial, so that token can be recognised and repaired).
import { createHash } from "node:crypto";
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from "node:fs";
import { CommandFailure, exitCodes } from "../common/failure.js";

export type JournalRecord =
  | { type: "batch"; csvSha256: string; at: string }
  | { type: "row"; line: number; user: string; state: "writing"; serial: string; at: string }
  | { type: "row"; line: number; user: string; state: "done"; serial: string; at: string }
  | { type: "row"; line: number; user: string; state: "registered"; serial: string; message: string; at: string }
  | { type: "row"; line: number; user: string; state: "failed"; serial?: string; message: string; at: string };

export interface RowHistory {
  state: "writing" | "done" | "registered" | "failed";
  serial?: string;
  message?: string;
}

export class BatchJournal {
  private constructor(
    readonly path: string,
    /** last record per CSV line from earlier runs */
    readonly history: Map<number, RowHistory>,
  ) {}

  /** Opens (or starts) the journal of this CSV content; refuses a journal written for other content. */
  static open(path: string, csvContent: string): BatchJournal {
    const csvSha256 = createHash("sha256").update(csvContent).digest("hex");
    const history = new Map<number, RowHistory>();
    if (existsSync(path)) {
      const lines = readFileSync(path, "utf8").split("\n").filter(Boolean);
      let header: JournalRecord | undefined;
      for (const [index, text] of lines.entries()) {
        let record: JournalRecord;
        try {
          record = JSON.parse(text) as JournalRecord;
        } catch {
          // a crash can cut the last record short; anything earlier is corruption
          if (index === lines.length - 1) break;
          throw new CommandFailure(`the journal ${path} is damaged at line ${index + 1}`, exitCodes.usage);
        }
        if (index === 0) header = record;
        else if (record.type === "row") history.set(record.line, historyOf(record));
      }
      if (header?.type !== "batch") throw new CommandFailure(`${path} is not a batch journal`, exitCodes.usage);
      if (header.csvSha256 !== csvSha256) {
        throw new CommandFailure(`the journal ${path} was written for a different version of the CSV: give another --journal, or remove it to start over`, exitCodes.usage);
      }
      return new BatchJournal(path, history);
    }
    const journal = new BatchJournal(path, history);
    journal.append({ type: "batch", csvSha256, at: new Date().toISOString() });
    return journal;
  }

  append(record: JournalRecord): void {
    const fd = openSync(this.path, "a", 0o600);
    try {
      writeSync(fd, `${JSON.stringify(record)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (record.type === "row") this.history.set(record.line, historyOf(record));
  }
}

function historyOf(record: Extract<JournalRecord, { type: "row" }>): RowHistory {
  return { state: record.state, serial: record.serial, ...("message" in record && { message: record.message }) };
}
