// A loss that became NaN or infinite poisons every weight it reaches: one
// backward pass spreads it through the model and the optimizer's moments, and
// training would then run on to the end producing nothing ("PSNR NaN dB").
// Trainers check the loss before backward and throw this instead, naming the
// step and each loss term so the user can see which one broke.
//
// In a data-parallel run the check is collective: a NaN on one rank alone
// would have that rank skip (or stop) while the others go on into backward
// and wait for its gradients, so every rank asks every other (one small
// all-reduce, registered by DataParallel) and all skip or stop together.

export class NonFiniteLossError extends Error {
  constructor(
    /** The step the loss belongs to (1-based, as logged). */
    readonly step: number,
    /** Every loss term's value at that step, by name. */
    readonly terms: Record<string, number>,
    /** Which loss: the model's or the discriminator's. */
    readonly part = 'loss',
    /** The rank that broke, in a data-parallel run whose terms here are finite. */
    readonly otherRank?: number,
  ) {
    const shown = Object.entries(terms).map(([k, v]) => `${k} ${v}`).join(', ');
    super(otherRank === undefined
      ? `the ${part} is not finite at step ${step} (${shown})`
      : `the ${part} is not finite at step ${step} on rank ${otherRank} (this rank's: ${shown})`);
    this.name = 'NonFiniteLossError';
  }
}

/** The lowest rank whose flag is set, over all ranks of a data-parallel run (null when none is). */
export type FirstFlaggedRank = (flag: boolean) => number | null;

let firstFlaggedRank: FirstFlaggedRank | null = null;

/** @internal Set by DataParallel while it trains (null again when it leaves). */
export function setNonFiniteAgreement(agree: FirstFlaggedRank | null): void {
  firstFlaggedRank = agree;
}

/**
 * Where a non-finite value was seen: 'here', the rank of another process of
 * a data-parallel run, or null when every value on every rank is finite.
 * Collective in a data-parallel run: every rank must call it at the same point.
 */
export function nonFiniteRank(values: number[]): 'here' | number | null {
  const here = values.some((v) => !Number.isFinite(v));
  const first = firstFlaggedRank ? firstFlaggedRank(here) : (here ? 0 : null);
  return here ? 'here' : first;
}

/** Throws NonFiniteLossError when any term is NaN or ±Infinity (on any rank of a data-parallel run). */
export function checkFinite(step: number, terms: Record<string, number>, part?: string): void {
  const where = nonFiniteRank(Object.values(terms));
  if (where !== null) throw new NonFiniteLossError(step, terms, part, where === 'here' ? undefined : where);
}
