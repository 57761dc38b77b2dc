// A loss that became NaN or infinite poisons every weight it reaches: one
// backward pass spreads it through the model and the optimizer's moments, and
// training would then run on to the end producing nothing ("PSNR NaN dB").
// Trainers check the loss before backward and throw this instead, naming the
// step and each loss term so the user can see which one broke.

export class NonFiniteLossError extends Error {
  constructor(
    /** The step the loss belongs to (1-based, as logged). */
    readonly step: number,
    /** Every loss term's value at that step, by name. */
    readonly terms: Record<string, number>,
    /** Which loss: the model's or the discriminator's. */
    readonly part = 'loss',
  ) {
    const shown = Object.entries(terms).map(([k, v]) => `${k} ${v}`).join(', ');
    super(`the ${part} is not finite at step ${step} (${shown})`);
    this.name = 'NonFiniteLossError';
  }
}

/** Throws NonFiniteLossError when any term is NaN or ±Infinity. */
export function checkFinite(step: number, terms: Record<string, number>, part?: string): void {
  if (Object.values(terms).some((v) => !Number.isFinite(v))) throw new NonFiniteLossError(step, terms, part);
}
