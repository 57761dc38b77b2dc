// Where a run's time goes (`--profile`): named phases, nested, timed on the
// host clock. Off by default, when `phase(name, fn)` is a plain call; on,
// each phase adds its wall time to a total per path ('step › update ›
// backward'), and a report sets the totals beside the run's wall time and
// steps. Eager libtorch on CPU runs every op before it returns, so a phase's
// clock reading is its compute; on a GPU each phase boundary waits for the
// device first (cuda.synchronize), which slows the run a little but makes
// the split true. Phases are entered and left in order (no two at once): the
// loops are sequential, and an awaited phase holds the stack until it ends.
import { native as N } from './native.js';

/** One phase's totals: `path` joins the enclosing phases' names with ' › '. */
export interface PhaseRow {
  path: string;
  depth: number;
  ms: number;
  calls: number;
}

export interface ProfileReport {
  /** Wall-clock seconds from `start()` to the report. */
  wallSeconds: number;
  /** Steps (or batches) the run counted with `step()`. */
  steps: number;
  /** Every phase, each under its parent; siblings in the order first entered. */
  phases: PhaseRow[];
  /** Events counted rather than timed (host reads of tensor values). */
  counts: Record<string, number>;
}

class PhaseProfile {
  #on = false;
  #sync = false;
  #started = 0;
  #steps = 0;
  readonly #rows = new Map<string, PhaseRow>();
  readonly #counts = new Map<string, number>();
  readonly #stack: string[] = [];

  get enabled(): boolean {
    return this.#on;
  }

  /** Clears every total and starts the wall clock; `sync` waits for the GPU at each boundary. */
  start(o: { sync?: boolean } = {}): void {
    this.#on = true;
    this.#sync = o.sync === true;
    this.#rows.clear();
    this.#counts.clear();
    this.#stack.length = 0;
    this.#steps = 0;
    this.#started = performance.now();
  }

  stop(): void {
    this.#on = false;
  }

  /** Runs `fn` as the phase `name` inside the current one. */
  phase<T>(name: string, fn: () => T): T {
    if (!this.#on) return fn();
    const begin = this.#enter(name);
    try {
      return fn();
    } finally {
      this.#leave(begin);
    }
  }

  /** `phase` for work that is awaited (a data loader's next batch, say). */
  async phaseAsync<T>(name: string, fn: () => Promise<T>): Promise<T> {
    if (!this.#on) return fn();
    const begin = this.#enter(name);
    try {
      return await fn();
    } finally {
      this.#leave(begin);
    }
  }

  /** Counts one `name` event (no clock). */
  count(name: string): void {
    if (this.#on) this.#counts.set(name, (this.#counts.get(name) ?? 0) + 1);
  }

  /** Marks the end of one step of the run's loop: per-step columns divide by these. */
  step(): void {
    if (this.#on) this.#steps += 1;
  }

  report(): ProfileReport {
    return {
      wallSeconds: (performance.now() - this.#started) / 1000,
      steps: this.#steps,
      phases: treeOrder([...this.#rows.values()]).map((r) => ({ ...r })),
      counts: Object.fromEntries(this.#counts),
    };
  }

  #enter(name: string): { row: PhaseRow; at: number } {
    if (this.#sync) N.cudaSynchronize();
    this.#stack.push(name);
    const path = this.#stack.join(' › ');
    let row = this.#rows.get(path);
    if (!row) {
      row = { path, depth: this.#stack.length - 1, ms: 0, calls: 0 };
      this.#rows.set(path, row);
    }
    return { row, at: performance.now() };
  }

  #leave(begin: { row: PhaseRow; at: number }): void {
    if (this.#sync) N.cudaSynchronize();
    begin.row.ms += performance.now() - begin.at;
    begin.row.calls += 1;
    this.#stack.pop();
  }
}

const parentPath = (p: PhaseRow): string => p.path.slice(0, Math.max(0, p.path.lastIndexOf(' › ')));

/** Rows in depth-first order: a phase first entered late in a run (the GAN's, say) still sits under its parent. */
function treeOrder(rows: PhaseRow[]): PhaseRow[] {
  const children = new Map<string, PhaseRow[]>();
  for (const r of rows) {
    const key = r.depth === 0 ? '' : parentPath(r);
    children.set(key, [...(children.get(key) ?? []), r]);
  }
  const visit = (key: string): PhaseRow[] => (children.get(key) ?? []).flatMap((r) => [r, ...visit(r.path)]);
  return visit('');
}

/** The process's one profile: runs are one per process, and phases sit deep in model code. */
export const profile = new PhaseProfile();

/** `profile.phase`, for the call sites. */
export const phase = <T>(name: string, fn: () => T): T => profile.phase(name, fn);

/**
 * The report as a Markdown table: each phase's total seconds, milliseconds
 * per step, share of the wall time, and calls. A phase with inner phases has
 * a first child row '(itself)' for its time outside them; the last row is
 * what ran outside every phase.
 */
export function profileTable(r: ProfileReport): string {
  const wallMs = r.wallSeconds * 1000;
  const perStep = (n: number) => (r.steps > 0 ? (n / r.steps).toFixed(1) : '–');
  const line = (label: string, depth: number, ms: number, calls: string) =>
    `| ${'\u00a0\u00a0'.repeat(depth)}${label} | ${(ms / 1000).toFixed(2)} | ${perStep(ms)} | ${((100 * ms) / wallMs).toFixed(1)}% | ${calls} |`;
  const lines = ['| phase | total s | ms / step | share of wall | calls |', '|---|---|---|---|---|'];
  for (const p of r.phases) {
    lines.push(line(p.path.split(' › ').at(-1)!, p.depth, p.ms, String(p.calls)));
    const inner = r.phases.filter((c) => c.depth === p.depth + 1 && parentPath(c) === p.path).reduce((s, c) => s + c.ms, 0);
    if (inner > 0) lines.push(line('(itself)', p.depth + 1, p.ms - inner, ''));
  }
  const top = r.phases.filter((p) => p.depth === 0).reduce((s, p) => s + p.ms, 0);
  lines.push(line('(outside every phase)', 0, wallMs - top, ''));
  const counts = Object.entries(r.counts).map(([k, v]) => `; ${k}: ${v} (${perStep(v)} per step)`).join('');
  return `${lines.join('\n')}\n\n${r.steps} steps in ${r.wallSeconds.toFixed(1)} s${counts}`;
}
