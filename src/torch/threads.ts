// How many intra-op (OpenMP) threads libtorch should run, from the machine's
// load: sampled briefly at load and again, on request, during long runs.
//
// Why a sample and not one instant: one read of /proc/loadavg's running-task
// count at load once caught a short-lived process and left a 3-minute
// training on 1 thread of 2 (2.3× slower). Why adapt at all: OpenMP threads
// that outnumber the free cores busy-wait for each other (docs/design.md §9 measured
// a 20× slower step with one core taken), so too many threads is far worse
// than too few; the count is lowered promptly and raised only with a margin.
//
// Everything here is a pure function of samples except `procSampler` and
// `sleepSync`, so the decisions are tested with hand-made numbers.
import { readFileSync } from 'node:fs';

/** CPU time of a set of CPUs from /proc/stat, in clock ticks (USER_HZ). */
export interface CpuTimes {
  /** user + nice + system + irq + softirq (guest time is already inside user). */
  busy: number;
  /** busy + idle + iowait + steal: wall time × cpus. */
  total: number;
  /** How many CPUs the sums cover. */
  cpus: number;
}

/** One observation of the machine and of this process. */
export interface LoadSample {
  cpu: CpuTimes;
  /** This process's CPU time so far, all its threads, in µs (process.cpuUsage() user + system). */
  ownMicros: number;
  /** Wall clock in ms (performance.now()). */
  wallMs: number;
}

/** Where the thread count came from. `unsampled`: all cores, as nothing could be sampled (not Linux, one core). */
export type ThreadSource = 'env' | 'pinned' | 'sampled' | 'unsampled';

export interface ThreadDecision {
  threads: number;
  source: ThreadSource;
  /** Cores that other processes kept busy over the last sampled window (0 when none was sampled). */
  busyByOthers: number;
  /** The cores this process may use (os.availableParallelism()). */
  cores: number;
  /** Why this count, in one line for a log. */
  reason: string;
}

/** What `ThreadGovernor.maybeAdjust` did; `reason` is set when the count changed (or adapting stopped). */
export interface ThreadAdjustment {
  threads: number;
  changed: boolean;
  reason?: string;
}

/**
 * A core is counted as taken when others use more of it than the slack.
 * Lowering tolerates 0.3 of a core of noise (shells, kernel threads, tick
 * rounding over a 100 ms sample); raising asks that others leave the core
 * nearly idle (0.1). The band between them is the hysteresis that keeps a
 * process using ~0.2 of a core from flipping the count at every check.
 */
export const LOWER_SLACK = 0.3;
export const RAISE_SLACK = 0.1;

/**
 * Cores kept busy by processes other than this one between two samples, or
 * undefined when no time elapsed. The system's busy share of the sampled
 * CPUs minus this process's CPU time over the same wall time: while this
 * process trains, its own threads must not read as competition.
 */
export function busyByOthers(before: LoadSample, after: LoadSample): number | undefined {
  const total = after.cpu.total - before.cpu.total;
  const wallMicros = (after.wallMs - before.wallMs) * 1000;
  if (total <= 0 || wallMicros <= 0) return undefined;
  const systemBusy = ((after.cpu.busy - before.cpu.busy) / total) * after.cpu.cpus;
  const own = (after.ownMicros - before.ownMicros) / wallMicros;
  return Math.max(0, systemBusy - own);
}

/** Threads that fit on the CPUs others leave free, counting a core taken beyond `slack`; within [1, cores]. */
export function threadsFor(others: number, cpus: number, cores: number, slack: number): number {
  const taken = Math.max(0, Math.ceil(others - slack));
  return Math.min(cores, Math.max(1, cpus - taken));
}

/** The next count from the current one (undefined at load): lower promptly, raise only with a margin. */
export function nextThreads(current: number | undefined, others: number, cpus: number, cores: number): number {
  const down = threadsFor(others, cpus, cores, LOWER_SLACK);
  if (current === undefined || down < current) return down;
  const up = threadsFor(others, cpus, cores, RAISE_SLACK);
  return up > current ? up : current;
}

/** ROBUSTOK_THREADS as a count; undefined when unset or empty. */
export function threadsFromEnv(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`ROBUSTOK_THREADS must be a positive integer, got '${value}'`);
  return n;
}

/** "0-3,6" (a Cpus_allowed_list) → {0, 1, 2, 3, 6}. */
export function parseCpuList(list: string): Set<number> {
  const out = new Set<number>();
  for (const part of list.trim().split(',')) {
    const [from, to = from] = part.split('-').map(Number);
    if (from === undefined || !Number.isInteger(from) || !Number.isInteger(to)) continue;
    for (let cpu = from; cpu <= to; cpu++) out.add(cpu);
  }
  return out;
}

/**
 * Sums /proc/stat's per-CPU lines over `allowed` (the CPUs this process may
 * run on: a container pinned to 2 of 64 host CPUs must not see the other 62's
 * load), else its aggregate line. Undefined when the text has neither.
 */
export function parseProcStat(text: string, allowed?: ReadonlySet<number>): CpuTimes | undefined {
  let all: CpuTimes | undefined;
  const mine: CpuTimes = { busy: 0, total: 0, cpus: 0 };
  let perCpu = 0;
  for (const line of text.split('\n')) {
    const m = /^cpu(\d*)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = m[2]!.trim().split(/\s+/).map(Number);
    const busy = user + nice + system + irq + softirq;
    const times = { busy, total: busy + idle + iowait + steal, cpus: 1 };
    if (m[1] === '') { all = times; continue; }
    perCpu++;
    if (allowed?.has(Number(m[1]))) {
      mine.busy += times.busy;
      mine.total += times.total;
      mine.cpus++;
    }
  }
  if (mine.cpus > 0) return mine;
  return all && perCpu > 0 ? { ...all, cpus: perCpu } : undefined;
}

/** Reads this machine's samples on Linux; undefined elsewhere or when /proc cannot be read. */
export function procSampler(): (() => LoadSample | undefined) | undefined {
  if (process.platform !== 'linux') return undefined;
  let allowed: Set<number> | undefined;
  try {
    const line = /^Cpus_allowed_list:\s*(.*)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (line) allowed = parseCpuList(line[1]!);
  } catch { /* all CPUs */ }
  const sample = (): LoadSample | undefined => {
    let cpu: CpuTimes | undefined;
    try {
      cpu = parseProcStat(readFileSync('/proc/stat', 'utf8'), allowed);
    } catch {
      return undefined;
    }
    const own = process.cpuUsage();
    return cpu && { cpu, ownMicros: own.user + own.system, wallMs: performance.now() };
  };
  return sample() ? sample : undefined;
}

/** Blocks this thread for `ms` without using a core (so the sample sees others, not us). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export interface GovernorOptions {
  /** The cores this process may use (os.availableParallelism()). */
  cores: number;
  /** Takes a sample; without one nothing is sampled and every core is used. */
  sample?: () => LoadSample | undefined;
  /** Sets libtorch's count (the addon's setNumThreads). */
  apply: (threads: number) => void;
  /** Least time between two checks by maybeAdjust, ms (default 15 s: a long window averages out bursts). */
  intervalMs?: number;
  /** The rate limit's clock, ms (default performance.now). */
  now?: () => number;
  /** Blocks for the load-time sample (default sleepSync). */
  sleep?: (ms: number) => void;
}

const oneDecimal = (n: number): string => n.toFixed(1);

/** Owns libtorch's thread count: chooses it at load, adapts it when asked, and says why. */
export class ThreadGovernor {
  readonly intervalMs: number;
  private current: ThreadDecision;
  private last: LoadSample | undefined;  // the start of the next window; undefined: not adapting
  private lastCheck = 0;
  private readonly now: () => number;

  constructor(private readonly options: GovernorOptions) {
    this.intervalMs = options.intervalMs ?? 15_000;
    this.now = options.now ?? (() => performance.now());
    this.current = { threads: options.cores, source: 'unsampled', busyByOthers: 0, cores: options.cores, reason: 'not started' };
  }

  /**
   * Chooses and applies the count at load: `envValue` (ROBUSTOK_THREADS)
   * pins it; else two samples `sampleMs` apart (blocking: ~100 ms at load)
   * measure the cores other processes keep busy.
   */
  start(envValue: string | undefined, sampleMs = 100): ThreadDecision {
    const { cores } = this.options;
    const fromEnv = threadsFromEnv(envValue);
    if (fromEnv !== undefined) return this.set(fromEnv, 'env', 0, `ROBUSTOK_THREADS=${fromEnv}`);
    const first = cores > 1 ? this.options.sample?.() : undefined;
    if (!first) return this.set(cores, 'unsampled', 0, cores > 1 ? 'all cores: the load cannot be sampled here (no /proc/stat)' : 'one core');
    (this.options.sleep ?? sleepSync)(sampleMs);
    const second = this.options.sample?.();
    const others = second && busyByOthers(first, second);
    if (!second || others === undefined) return this.set(cores, 'unsampled', 0, 'all cores: the load sample failed');
    this.last = second;
    this.lastCheck = this.now();
    const threads = nextThreads(undefined, others, second.cpu.cpus, cores);
    return this.set(threads, 'sampled', others,
      `${threads} of ${cores} cores: other processes kept ${oneDecimal(others)} of ${second.cpu.cpus} CPUs busy over ${sampleMs} ms at load`);
  }

  /**
   * For a training loop to call between steps: at most once per intervalMs
   * it samples the CPUs' use since the last check and raises or lowers the
   * count (lowering at once, raising with a margin); otherwise it returns at
   * the cost of one clock read. Does nothing when the count is pinned
   * (ROBUSTOK_THREADS, setNumThreads) or was not sampled.
   */
  maybeAdjust(): ThreadAdjustment {
    const { threads } = this.current;
    const now = this.now();
    if (!this.last || now - this.lastCheck < this.intervalMs) return { threads, changed: false };
    const sample = this.options.sample?.();
    if (!sample) return { threads, changed: false };
    const others = busyByOthers(this.last, sample);
    const seconds = (sample.wallMs - this.last.wallMs) / 1000;
    this.last = sample;
    this.lastCheck = now;
    if (others === undefined) return { threads, changed: false };
    const next = nextThreads(threads, others, sample.cpu.cpus, this.options.cores);
    const why = `other processes kept ${oneDecimal(others)} of ${sample.cpu.cpus} CPUs busy over the last ${seconds.toFixed(0)} s`;
    if (next === threads) {
      this.current = { ...this.current, busyByOthers: others, reason: `${threads} of ${this.options.cores} cores: ${why}` };
      return { threads, changed: false };
    }
    try {
      this.set(next, 'sampled', others, `${next} of ${this.options.cores} cores: ${why}`);
    } catch (e) {
      this.last = undefined;  // a libtorch that cannot change its count now: stop trying
      return { threads, changed: false, reason: `keeping ${threads} threads: ${(e as Error).message}` };
    }
    return { threads: next, changed: true, reason: `threads ${threads} → ${next}: ${why}` };
  }

  /** Applies a count the user chose: it then stays, whatever the load. */
  pin(threads: number): void {
    this.last = undefined;
    this.set(threads, 'pinned', this.current.busyByOthers, `setNumThreads(${threads})`);
  }

  /** The count in force and why it was chosen. */
  decision(): ThreadDecision {
    return { ...this.current };
  }

  private set(threads: number, source: ThreadSource, busy: number, reason: string): ThreadDecision {
    this.options.apply(threads);
    this.current = { threads, source, busyByOthers: busy, cores: this.options.cores, reason };
    if (source !== 'sampled') this.last = undefined;
    return this.decision();
  }
}
