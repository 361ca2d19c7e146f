// A progress bar for batches: one line rewritten in place on a terminal, plain lines otherwise (logs,
// CI). Operator messages printed while the bar is shown go above it. What they quote from a device (its
// serial register) reaches the terminal without control characters: a hostile gadget could otherwise
// clear the screen and write a fake "registered and assigned" line.
import { terminalLine } from "../common/terminal-text.js";

export class Progress {
  private last = "";
  constructor(
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  private get interactive(): boolean {
    return Boolean(this.stream.isTTY);
  }

  private bar(done: number): string {
    const width = 24;
    const filled = this.total === 0 ? width : Math.round((done / this.total) * width);
    return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${this.total}`;
  }

  update(done: number, failed: number, activity: string): void {
    this.last = `${this.bar(done)}${failed ? ` (${failed} failed)` : ""} ${terminalLine(activity)}`;
    this.stream.write(this.interactive ? `\r\x1b[2K${this.last}` : `${this.last}\n`);
  }

  /** Prints a message line, keeping the bar below it on a terminal. */
  say(line: string): void {
    const text = terminalLine(line);
    if (this.interactive) this.stream.write(`\r\x1b[2K${text}\n${this.last}`);
    else this.stream.write(`${text}\n`);
  }

  end(): void {
    if (this.interactive && this.last) this.stream.write("\n");
  }
}
