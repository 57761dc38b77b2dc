// Exponential moving average of weights (Polyak & Juditsky averaging, as in
// timm's ModelEma and latent-diffusion's LitEma): a shadow copy of each tensor
// that trails the trained one, shadow ← d·shadow + (1 − d)·live, evaluated
// instead of the live weights because it is smoother than any single step.
import { type Tensor, isFloatingPoint, noGrad, tidy } from '../torch/index.js';
import { type Stateful, type TrainState, checkEnvelope, checkTensors, metaCount, stateError } from './state.js';

export interface EmaOptions {
  /** d, the weight of the past; default 0.9999. */
  decay?: number;
  /**
   * Ramp the decay up early on: d_t = min(d, (1 + t) / (10 + t)) at update t
   * (TensorFlow's ExponentialMovingAverage with num_updates; LitEma), so the
   * shadow is not stuck near the random initial weights for ~1/(1 − d)
   * steps. Default true; false keeps d constant.
   */
  warmup?: boolean;
}

export class Ema implements Stateful {
  decay: number;
  warmup: boolean;
  /** Updates made so far; the default `t` of the next update is updates + 1. */
  updates = 0;
  readonly #names: string[];
  readonly #live: Tensor[];
  readonly #shadow: Tensor[];
  #backup: Tensor[] | null = null;

  /** Shadows `named` (e.g. a module's namedParameters() and namedBuffers()), starting from their current values. */
  constructor(named: [string, Tensor][], options: EmaOptions = {}) {
    this.decay = options.decay ?? 0.9999;
    this.warmup = options.warmup ?? true;
    const problem = checkSettings(this.decay, this.warmup);
    if (problem) throw new RangeError(`Ema: ${problem}`);
    if (!Array.isArray(named) || named.length === 0) throw new Error('Ema: got no tensors to average');
    this.#names = named.map(([name]) => name);
    const duplicate = this.#names.find((n, i) => this.#names.indexOf(n) !== i);
    if (duplicate !== undefined) throw new Error(`Ema: the name '${duplicate}' appears twice`);
    this.#live = named.map(([, t]) => t);
    this.#shadow = noGrad(() => tidy(() => this.#live.map((t) => t.clone().keep())));
  }

  /** The decay used at update `t`. */
  decayAt(t: number): number {
    return this.warmup ? Math.min(this.decay, (1 + t) / (10 + t)) : this.decay;
  }

  /**
   * Moves each shadow toward its live tensor; integer and bool tensors (step
   * counters, index buffers) are copied, as averaging them means nothing.
   * `step` is t in the warm-up formula: by default the count of updates
   * including this one (1 at the first); pass the optimizer's step instead to
   * tie the ramp to training progress.
   */
  update(step = this.updates + 1): void {
    if (this.#backup) throw new Error('Ema.update: the EMA weights are swapped in; swapOut() first');
    if (!(step >= 0)) throw new RangeError(`Ema.update: step must be ≥ 0, got ${step}`);
    const weight = 1 - this.decayAt(step);
    noGrad(() => this.#live.forEach((live, i) => {
      const shadow = this.#shadow[i]!;
      if (isFloatingPoint(shadow.dtype)) shadow.lerp_(live, weight);
      else shadow.copy_(live);
    }));
    this.updates += 1;
  }

  /** Puts the EMA values into the live tensors (saving theirs) until swapOut(). */
  swapIn(): void {
    if (this.#backup) throw new Error('Ema.swapIn: already swapped in');
    this.#backup = noGrad(() => tidy(() => this.#live.map((t) => t.clone().keep())));
    noGrad(() => this.#live.forEach((t, i) => t.copy_(this.#shadow[i]!)));
  }

  /** Restores the live values saved by swapIn(). */
  swapOut(): void {
    const backup = this.#backup;
    if (!backup) throw new Error('Ema.swapOut: not swapped in');
    noGrad(() => this.#live.forEach((t, i) => t.copy_(backup[i]!)));
    for (const t of backup) t.dispose();
    this.#backup = null;
  }

  /** Runs `fn` (sync or async) with the EMA values swapped in, and restores the live ones after, also on a throw. */
  withEmaWeights<T>(fn: () => T): T {
    this.swapIn();
    let result: T;
    try {
      result = fn();
    } catch (error) {
      this.swapOut();
      throw error;
    }
    if (result instanceof Promise) return result.finally(() => this.swapOut()) as T;
    this.swapOut();
    return result;
  }

  /** Copies the EMA values into `target` (default: the live tensors, for good), matched by name and shape. */
  copyTo(target: [string, Tensor][] = this.#names.map((n, i) => [n, this.#live[i]!])): void {
    if (this.#backup) throw new Error('Ema.copyTo: the EMA weights are swapped in; swapOut() first');
    const byName = new Map(target);
    const problems = this.#names.flatMap((name, i) => {
      const t = byName.get(name);
      if (t === undefined) return [`no tensor '${name}'`];
      const shape = this.#shadow[i]!.shape;
      return t.shape.join() === shape.join() ? [] : [`'${name}' has shape [${t.shape}], expected [${shape}]`];
    });
    const extra = target.filter(([n]) => !this.#names.includes(n)).map(([n]) => `'${n}' has no EMA`);
    if (problems.length + extra.length > 0) throw new Error(`Ema.copyTo: ${[...problems, ...extra].join('; ')}`);
    noGrad(() => this.#names.forEach((name, i) => byName.get(name)!.copy_(this.#shadow[i]!)));
  }

  /** The shadows under the live tensors' names: also a model state dict of the EMA weights. */
  stateDict(): TrainState {
    const tensors = Object.fromEntries(this.#names.map((n, i) => [n, this.#shadow[i]!]));
    return { tensors, meta: { kind: 'Ema', decay: this.decay, warmup: this.warmup, updates: this.updates } };
  }

  loadStateDict(state: TrainState): void {
    const meta = checkEnvelope('Ema', state);
    const problem = checkSettings(meta.decay, meta.warmup);
    if (problem) throw stateError('Ema', problem);
    const updates = metaCount('Ema', meta, 'updates');
    checkTensors('Ema', state.tensors, new Map(this.#names.map((n, i) => [n, this.#shadow[i]!.shape])));
    noGrad(() => this.#names.forEach((n, i) => this.#shadow[i]!.copy_(state.tensors[n]!)));
    this.decay = meta.decay as number;
    this.warmup = meta.warmup as boolean;
    this.updates = updates;
  }

  /** Frees the shadows (and a swapped-in backup); the live tensors stay the caller's. */
  dispose(): void {
    for (const t of [...this.#shadow, ...(this.#backup ?? [])]) t.dispose();
    this.#backup = null;
  }
}

function checkSettings(decay: unknown, warmup: unknown): string | undefined {
  if (!(typeof decay === 'number' && decay >= 0 && decay <= 1)) return `decay must be in [0, 1], got ${String(decay)}`;
  if (typeof warmup !== 'boolean') return `warmup must be a boolean, got ${String(warmup)}`;
  return undefined;
}

/**
 * The constant decay d under which a shadow keeps half of its starting value
 * after `steps` updates (d^steps = 1/2). A half-life reads in the run's own
 * units: a fine-tuning run of S steps with half-life h exports weights that
 * still hold 2^(−S/h) of where it started.
 */
export function emaDecayForHalfLife(steps: number): number {
  if (!(steps > 0 && Number.isFinite(steps))) throw new RangeError(`emaDecayForHalfLife: steps must be a positive number, got ${steps}`);
  return 0.5 ** (1 / steps);
}
