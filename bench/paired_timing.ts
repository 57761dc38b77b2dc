// How the twin benchmarks (bench/tokenizer, bench/generator, bench/posttrain) time robustok
// against its PyTorch twin: calls in pairs, a pause before each, who goes
// first alternating, and medians and quartiles of the pairs' ratios.

// Idle time before each timed call. After a call, each process's worker
// threads keep spinning for a while (libgomp ~ms, OpenBLAS's pool — gemv's —
// up to ~0.1 s) and would steal the cores from whichever side runs next; a
// pause gives each call the machine as a training run has it.
const SETTLE_MS = 150;

/** The q-quantile of `xs`, linear between order statistics (numpy's default). */
export const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (s.length - 1) * q;
  const lo = Math.floor(at);
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (at - lo);
};
export const median = (xs: number[]): number => quantile(xs, 0.5);

/** Milliseconds `fn` takes. */
export const timed = (fn: () => void): number => {
  const start = performance.now();
  fn();
  return performance.now() - start;
};

/** Sleeps without returning to the event loop (see startTwin in bench/twin_process.ts on why). */
export const settle = (): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, SETTLE_MS);

/**
 * One paired timing [robustok, PyTorch]; round `i` decides who goes first,
 * alternating so neither always runs on a warmer cache. Either side may be
 * awaited (a whole training run is); each returns its own milliseconds.
 */
export async function pair(i: number, ours: () => number | Promise<number>, theirs: () => number | Promise<number>): Promise<[number, number]> {
  settle();
  const first = await (i % 2 === 0 ? ours() : theirs());
  settle();
  const second = await (i % 2 === 0 ? theirs() : ours());
  return i % 2 === 0 ? [first, second] : [second, first];
}

/** Paired timings summarised: each side's median ms, its rate, the median ratio and its p25–p75. */
export interface PairedSummary {
  ms: [number, number];
  perSecond: [number, number];
  ratio: number;
  spread: [number, number];
}

/**
 * Paired times [robustok, PyTorch] in ms → each side's median, its rate
 * (`work` units per call: images, sequences or tokens, per second of the
 * median), and the median of the pairs' ratios with their p25–p75.
 */
export function pairedSummary(pairs: [number, number][], work: number): PairedSummary {
  const ms: [number, number] = [median(pairs.map((p) => p[0])), median(pairs.map((p) => p[1]))];
  const ratios = pairs.map(([a, b]) => a / b);
  return { ms, perSecond: [(work * 1e3) / ms[0], (work * 1e3) / ms[1]], ratio: median(ratios), spread: [quantile(ratios, 0.25), quantile(ratios, 0.75)] };
}
