// The live view of `robustok reproduce`: every stage's state, the running
// ones with progress, elapsed time and ETA, and an ETA for the whole
// reproduction from this run's own stage times (the mean minutes of each kind
// finished so far, times the stages of that kind still waiting, shared over
// the jobs). On a terminal it is redrawn in place below the log lines; in a
// log file it is one summary line a minute.
import type { ProgressEvent } from '../runs/index.js';
import type { StageKind, StageUpdate } from '../pipeline/index.js';

interface Row {
  kind: StageKind;
  state: StageUpdate['state'];
  startedAt?: number;
  endedAt?: number;
  progress?: ProgressEvent;
  /** When the first progress event arrived, and its count: resumed work is not part of the rate. */
  firstAt?: number;
  firstDone?: number;
}

export function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
}

export class StageBoard {
  private readonly rows = new Map<string, Row>();
  private readonly startedAt: number;
  private drawn = 0;
  private timer: NodeJS.Timeout | null = null;
  private lastLine = -Infinity;

  constructor(private readonly o: { jobs: number; tty: boolean; write?: (text: string) => void; now?: () => number }) {
    this.startedAt = this.now();
  }

  private now(): number { return this.o.now?.() ?? Date.now(); }
  private write(text: string): void { (this.o.write ?? ((t) => process.stderr.write(t)))(text); }

  update(u: StageUpdate): void {
    const row = this.rows.get(u.id) ?? { kind: u.kind, state: u.state };
    const now = this.now();
    if (u.state === 'running' && row.state !== 'running') Object.assign(row, { startedAt: now, firstAt: undefined, firstDone: undefined, progress: undefined });
    if (u.state !== 'running' && u.state !== 'waiting') row.endedAt = now;
    row.state = u.state;
    if (u.progress) {
      row.progress = u.progress;
      if (row.firstAt === undefined) Object.assign(row, { firstAt: now, firstDone: u.progress.done });
    }
    this.rows.set(u.id, row);
    this.refresh();
  }

  /** A log line above the board. */
  log(message: string): void {
    if (!this.o.tty) return this.write(`${message}\n`);
    this.erase();
    this.write(`${message}\n`);
    this.draw();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.o.tty) { this.erase(); this.draw(); }
  }

  /** The board's lines (what a terminal shows). */
  lines(): string[] {
    const now = this.now();
    const rows = [...this.rows];
    const count = (state: Row['state']) => rows.filter(([, r]) => r.state === state).length;
    const running = rows.filter(([, r]) => r.state === 'running');
    const waiting = rows.filter(([, r]) => r.state === 'waiting');
    const eta = this.eta(now);
    const untimed = this.unknownKinds();
    const head = `reproduce: ${count('done') + count('skipped')}/${rows.length} stages finished (${count('skipped')} skipped), ` +
      `${running.length} running, ${waiting.length} waiting · elapsed ${clock((now - this.startedAt) / 1000)}` +
      (eta === null ? '' : ` · ETA ~${clock(eta)}`) + (untimed.length > 0 ? ` (+ ${untimed.join(', ')}: not timed yet)` : '');
    const lines = [head];
    for (const [id, r] of running) {
      const p = r.progress;
      const elapsed = clock((now - (r.startedAt ?? now)) / 1000);
      const left = this.stageEta(r, now);
      lines.push(`  ${id.padEnd(38)} ${p ? `${p.label.split(' ').at(-1)} ${p.done}/${p.total}`.padEnd(22) : ''.padEnd(22)} ${elapsed}${left === null ? '' : ` · ETA ${clock(left)}`}`);
    }
    if (waiting.length > 0) lines.push(`  next: ${waiting.slice(0, 3).map(([id]) => id).join(', ')}${waiting.length > 3 ? `, … (${waiting.length - 3} more)` : ''}`);
    const failed = rows.filter(([, r]) => r.state === 'failed' || r.state === 'interrupted');
    for (const [id, r] of failed) lines.push(`  ${r.state}: ${id}`);
    return lines;
  }

  /** Seconds left of a running stage, from its progress rate; null before two progress events. */
  private stageEta(r: Row, now: number): number | null {
    const p = r.progress;
    if (!p || r.firstAt === undefined || now <= r.firstAt || p.done <= (r.firstDone ?? 0)) return null;
    const rate = (p.done - r.firstDone!) / ((now - r.firstAt) / 1000);
    return (p.total - p.done) / rate;
  }

  /** Mean seconds of the stages of each kind that ran to the end in this run. */
  private meanSeconds(): Map<StageKind, number> {
    const sums = new Map<StageKind, [number, number]>();
    for (const r of this.rows.values()) {
      if (r.state !== 'done' || r.startedAt === undefined || r.endedAt === undefined) continue;
      const [t, n] = sums.get(r.kind) ?? [0, 0];
      sums.set(r.kind, [t + (r.endedAt - r.startedAt) / 1000, n + 1]);
    }
    return new Map([...sums].map(([k, [t, n]]) => [k, t / n]));
  }

  private unknownKinds(): StageKind[] {
    const known = this.meanSeconds();
    return [...new Set([...this.rows.values()].filter((r) => r.state === 'waiting' && !known.has(r.kind)).map((r) => r.kind))];
  }

  /** Seconds until every known stage is finished: waiting work by kind plus running stages' ETAs, over the jobs; null with nothing to go on. */
  private eta(now: number): number | null {
    const mean = this.meanSeconds();
    let work = 0;
    let known = false;
    for (const r of this.rows.values()) {
      if (r.state === 'waiting' && mean.has(r.kind)) { work += mean.get(r.kind)!; known = true; }
      if (r.state === 'running') {
        const left = this.stageEta(r, now) ?? (mean.has(r.kind) ? Math.max(0, mean.get(r.kind)! - (now - r.startedAt!) / 1000) : null);
        if (left !== null) { work += left; known = true; }
      }
    }
    return known ? work / this.o.jobs : null;
  }

  private refresh(): void {
    if (!this.o.tty) {
      const now = this.now();
      if (now - this.lastLine >= 60_000) {
        this.lastLine = now;
        this.write(`${this.lines().join('\n')}\n`);
      }
      return;
    }
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.erase();
      this.draw();
    }, 250);
  }

  private erase(): void {
    if (this.drawn > 0) this.write(`\x1b[${this.drawn}A\x1b[0J`);
    this.drawn = 0;
  }

  private draw(): void {
    const columns = process.stderr.columns || 120;
    const lines = this.lines().map((l) => (l.length > columns ? `${l.slice(0, columns - 1)}…` : l));
    this.write(`${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }
}
