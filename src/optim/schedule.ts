// Learning-rate schedules as pure functions of the step: `lrAt(step)` has no
// state, so resuming a run needs only the step count (see Scheduler), and the
// same schedule can be plotted, tested or evaluated anywhere.
export interface LrSchedule {
  /** The learning rate for optimizer step `step` (0 = the first step). */
  lrAt(step: number): number;
}

function checkStep(step: number): void {
  if (!Number.isInteger(step) || step < 0) throw new RangeError(`lrAt: step must be a non-negative integer, got ${step}`);
}
function checkLr(name: string, value: number): void {
  if (!(typeof value === 'number' && value >= 0 && Number.isFinite(value))) throw new RangeError(`${name} must be a finite number ≥ 0, got ${value}`);
}

export function constantLr(lr: number): LrSchedule {
  checkLr('constantLr: lr', lr);
  return { lrAt: (step) => (checkStep(step), lr) };
}

export interface WarmupCosineOptions {
  /** The peak rate, reached at the end of warm-up. */
  lr: number;
  /** The floor the cosine decays to (CosineAnnealingLR's eta_min); default 0. */
  lrMin?: number;
  /** Steps of linear warm-up; default 0. */
  warmupSteps?: number;
  /** Warm-up and decay together; from this step on the rate stays at lrMin. */
  totalSteps: number;
  /** The rate at step 0 as a fraction of lr (LinearLR's start_factor); default 0. */
  warmupStartFactor?: number;
}

/**
 * Linear warm-up, then half a cosine down to a floor (Loshchilov & Hutter,
 * "SGDR", without restarts; Goyal et al. for the warm-up). With W warm-up
 * steps and T total steps:
 *
 *   step < W:      lr · (f + (1 − f) · step / W)
 *   W ≤ step ≤ T:  lrMin + (lr − lrMin) · (1 + cos(π · (step − W) / (T − W))) / 2
 *   step > T:      lrMin
 *
 * The warm-up is the closed form of torch.optim.lr_scheduler.LinearLR(
 * start_factor = f, end_factor = 1, total_iters = W) (which needs f > 0; here
 * f = 0 is allowed and is the default, starting from rate 0); the decay is
 * CosineAnnealingLR(T_max = T − W, eta_min = lrMin) started at step W, i.e.
 * SequentialLR([LinearLR, CosineAnnealingLR], milestones = [W]). One
 * difference: past T, PyTorch's cosine rises again; this one holds lrMin.
 */
export function warmupCosine(options: WarmupCosineOptions): LrSchedule {
  const { lr, lrMin = 0, warmupSteps = 0, totalSteps, warmupStartFactor = 0 } = options;
  checkLr('warmupCosine: lr', lr);
  checkLr('warmupCosine: lrMin', lrMin);
  if (lrMin > lr) throw new RangeError(`warmupCosine: lrMin ${lrMin} is above lr ${lr}`);
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0) throw new RangeError(`warmupCosine: warmupSteps must be a non-negative integer, got ${warmupSteps}`);
  if (!Number.isInteger(totalSteps) || totalSteps <= warmupSteps) {
    throw new RangeError(`warmupCosine: totalSteps must be an integer above warmupSteps (${warmupSteps}), got ${totalSteps}`);
  }
  if (!(warmupStartFactor >= 0 && warmupStartFactor <= 1)) throw new RangeError(`warmupCosine: warmupStartFactor must be in [0, 1], got ${warmupStartFactor}`);
  const decaySteps = totalSteps - warmupSteps;
  return {
    lrAt(step) {
      checkStep(step);
      if (step < warmupSteps) return lr * (warmupStartFactor + ((1 - warmupStartFactor) * step) / warmupSteps);
      const progress = Math.min(step - warmupSteps, decaySteps) / decaySteps;
      return lrMin + ((lr - lrMin) * (1 + Math.cos(Math.PI * progress))) / 2;
    },
  };
}

/**
 * An epoch-based schedule driven by step counts: `schedule` is written in
 * epochs (its `step` argument counts epochs, e.g. warmupSteps = 5 epochs), and
 * the rate changes only at epoch boundaries, as when PyTorch code calls
 * scheduler.step() once per epoch: lrAt(step) = schedule.lrAt(⌊step / stepsPerEpoch⌋).
 */
export function epochwise(schedule: LrSchedule, stepsPerEpoch: number): LrSchedule {
  if (!Number.isInteger(stepsPerEpoch) || stepsPerEpoch < 1) throw new RangeError(`epochwise: stepsPerEpoch must be a positive integer, got ${stepsPerEpoch}`);
  return { lrAt: (step) => (checkStep(step), schedule.lrAt(Math.floor(step / stepsPerEpoch))) };
}
