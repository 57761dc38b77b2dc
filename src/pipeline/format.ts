// How the analysis's numbers are written into verdict lines, report.html and
// summary.md: one spelling everywhere, so the README can quote any of them.
import type { MeanStd } from '../metrics/index.js';
import type { SeedSpread } from './analysis.js';
import type { TestedPart } from './seed_part.js';

/** A number for a verdict line: 3 significant digits, signed where a difference. */
export const fmt = (v: number, signed = false): string =>
  (!Number.isFinite(v) ? 'n/a' : `${signed && v > 0 ? '+' : ''}${Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(3)}`);

/** An estimate with its interval: "−8.88 [−11.5, −6.39]". */
export const fmtInterval = (estimate: number, [lo, hi]: readonly [number, number], signed = false): string =>
  `${fmt(estimate, signed)} [${fmt(lo, signed)}, ${fmt(hi, signed)}]`;

/** A p value: 3 significant digits, n/a where there is none. */
export const fmtP = (p: number): string => (Number.isFinite(p) ? p.toPrecision(3) : 'n/a');

/** A part in one phrase: estimate [t interval] over n seeds, the deciding p, the 80%-power floor and what was dropped. */
export function partText(label: string, part: TestedPart): string {
  const dropped = part.dropped.length > 0 ? `; left out: ${part.dropped.join(', ')}` : '';
  const noise = part.sampleNoise ? `; ${noiseText(part)}` : '';
  return `${label} ${fmtInterval(part.t.mean, part.t.interval, true)} over ${part.n} seeds (one-sided p = ${fmtP(part.p)}, ` +
    `${part.test.startsWith('within-seed') ? 'permutation' : 't'}; detectable at 80% power: ${fmt(part.detectableEffect.effect)}${noise}${dropped})`;
}

/** Mean ± std in 3 significant digits; the std left out where undefined (one seed). */
export const pm = (m: MeanStd | null): string =>
  (m === null || !Number.isFinite(m.mean) ? 'n/a' : `${fmt(m.mean)}${Number.isFinite(m.std) ? ` ± ${fmt(m.std)}` : ''}`);

/** A FID over seeds: mean ± std, the standard error of its mean where there are several seeds, and one FID's sample SE where measured. */
export function pmSe(m: SeedSpread | null): string {
  if (m === null) return pm(m);
  const notes = [Number.isFinite(m.standardError) ? `SE ${fmt(m.standardError)}` : '', Number.isFinite(m.sampleError) ? `sample SE ${fmt(m.sampleError)}` : ''].filter(Boolean);
  return notes.length > 0 ? `${pm(m)} (${notes.join('; ')})` : pm(m);
}

/** Whether sample noise or training noise makes a part's between-seed spread, in one phrase. */
export const noiseText = (part: TestedPart): string => (part.sampleNoise === null ? 'sample noise not measured' :
  `sample noise ${fmt(part.sampleNoise.typical)} per seed (${fmt(100 * part.sampleNoise.share)}% of the between-seed variance: ${part.sampleNoise.dominant} noise dominates)`);
