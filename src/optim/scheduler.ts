// Drives an optimizer's learning rates from a schedule, with PyTorch's
// calling convention: constructing sets the rates for step 0, and one
// `step()` after each optimizer.step() moves to the next, so optimizer step k
// runs at schedule.lrAt(k).
import { type LrSchedule } from './schedule.js';
import { type Stateful, type TrainState, checkEnvelope, checkTensors, metaCount, stateError } from './state.js';

/** Any optimizer: the scheduler only sets each group's `lr`. */
export interface HasParamGroups {
  paramGroups: { lr: number }[];
}

/**
 * One schedule for every group, or one per group built from the group's
 * initial lr (its `baseLr`, torch's `initial_lr`), e.g. groups at different
 * rates sharing a shape: `(lr) => warmupCosine({ lr, totalSteps })`.
 */
export type ScheduleSpec = LrSchedule | ((baseLr: number, group: number) => LrSchedule);

export class Scheduler implements Stateful {
  #step = 0;
  #baseLrs: number[];
  #schedules: LrSchedule[];

  constructor(readonly optimizer: HasParamGroups, readonly schedule: ScheduleSpec) {
    this.#baseLrs = optimizer.paramGroups.map((g) => g.lr);
    this.#schedules = this.#build();
    this.#apply();
  }

  /** Optimizer steps taken (torch's last_epoch): the next step runs at lrAt(currentStep). */
  get currentStep(): number {
    return this.#step;
  }
  /** The rate each group has now (torch's get_last_lr()). */
  get lrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  step(): void {
    this.#step += 1;
    this.#apply();
  }

  stateDict(): TrainState {
    return { tensors: {}, meta: { kind: 'Scheduler', step: this.#step, baseLrs: [...this.#baseLrs] } };
  }

  /** Restores the step and the groups' base rates, and sets the rates for that step. */
  loadStateDict(state: TrainState): void {
    const meta = checkEnvelope('Scheduler', state);
    const step = metaCount('Scheduler', meta, 'step');
    const baseLrs = meta.baseLrs;
    const groups = this.optimizer.paramGroups.length;
    if (!Array.isArray(baseLrs) || baseLrs.length !== groups || !baseLrs.every((lr) => typeof lr === 'number' && lr >= 0)) {
      throw stateError('Scheduler', `meta.baseLrs must list ${groups} rates ≥ 0 (one per group), got ${JSON.stringify(baseLrs)}`);
    }
    checkTensors('Scheduler', state.tensors, new Map());
    this.#step = step;
    this.#baseLrs = [...baseLrs];
    this.#schedules = this.#build();
    this.#apply();
  }

  #build(): LrSchedule[] {
    const spec = this.schedule;
    return this.#baseLrs.map((lr, g) => (typeof spec === 'function' ? spec(lr, g) : spec));
  }

  #apply(): void {
    this.optimizer.paramGroups.forEach((group, g) => { group.lr = this.#schedules[g]!.lrAt(this.#step); });
  }
}
