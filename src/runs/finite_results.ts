// A NaN or infinite number at the end of a run is a broken model (or broken
// inputs), not a result: printed as "PSNR NaN dB" with exit 0 it would pass
// for one, and JSON would store it as null. Every end-of-run summary goes
// through this before it is written or printed.

/** Throws naming `where` and each of `numbers` that is NaN or ±Infinity (nulls are "not measured" and pass). */
export function refuseNonFiniteResults(where: string, numbers: Record<string, number | null>): void {
  const bad = Object.entries(numbers).filter(([, v]) => v !== null && !Number.isFinite(v));
  if (bad.length === 0) return;
  throw new Error(`${where}: ${bad.map(([k, v]) => `${k} is ${v}`).join(', ')} — not a result: the model's weights or the images are broken ` +
    '(check the images; retrain, or resume from a checkpoint that loads)');
}
