// One progress line for long work: a bar, counts, rate and ETA, redrawn in
// place on a terminal and printed as plain lines (at most one per `every`
// updates) when stderr is a file or a pipe, so logs stay readable.

const pad = (n: number, width: number) => String(n).padStart(width);

function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}m${pad(s % 60, 2)}s`;
}

export class Progress {
  private readonly startedAt = performance.now();
  private updates = 0;

  /**
   * @param total units of work
   * @param unit what a unit is ('it', 'img')
   * @param start units already done before this run (resumed work: not counted in the rate)
   * @param every plain-line cadence when not on a terminal
   */
  constructor(readonly total: number, readonly options: { label?: string; unit?: string; start?: number; every?: number } = {}) {}

  update(done: number, detail = ''): void {
    this.updates += 1;
    const tty = process.stderr.isTTY;
    if (!tty && done < this.total && this.updates % (this.options.every ?? 1) !== 0) return;
    const elapsed = (performance.now() - this.startedAt) / 1000;
    const rate = (done - (this.options.start ?? 0)) / Math.max(elapsed, 1e-9);
    const eta = rate > 0 ? (this.total - done) / rate : 0;
    const width = 30;
    const filled = Math.round((Math.min(done, this.total) / this.total) * width);
    const line = `${this.options.label ? `${this.options.label} ` : ''}[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` +
      `${pad(done, String(this.total).length)}/${this.total}${detail ? ` ${detail}` : ''} ` +
      `${rate.toFixed(2)} ${this.options.unit ?? 'it'}/s ETA ${duration(eta)}`;
    if (tty) process.stderr.write(`\r${line}`);
    else console.error(line);
  }

  /** Ends the line on a terminal. */
  finish(): void {
    if (process.stderr.isTTY) process.stderr.write('\n');
  }
}
