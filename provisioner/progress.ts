// A progress bar for batches: one line rewritten in place on a terminal, plain lines otherwise (logs,
// CI). Operator messages printed while the bar is shown go above it.
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
    this.last = `${this.bar(done)}${failed ? ` (${failed} failed)` : ""} ${activity}`;
    this.stream.write(this.interactive ? `\r\x1b[2K${this.last}` : `${this.last}\n`);
  }

  /** Prints a message line, keeping the bar below it on a terminal. */
  say(line: string): void {
    if (this.interactive) this.stream.write(`\r\x1b[2K${line}\n${this.last}`);
    else this.stream.write(`${line}\n`);
  }

  end(): void {
    if (this.interactive && this.last) this.stream.write("\n");
  }
}
